// containerd's distribution source label: `containerd.io/distribution.source.<registry host>`
// on a pulled blob, its value the comma-separated, sorted repositories of that registry the blob
// came from. Pull appends to it; push reads it to mount a blob from another repository instead
// of uploading it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"

namespace berth::images {

inline constexpr std::string_view kDistributionSourceLabelPrefix = "containerd.io/distribution.source.";

// "containerd.io/distribution.source." + host.
std::string DistributionSourceKey(std::string_view host);

// The repositories `have` names for `host` (empty entries dropped), in the label's order.
std::vector<std::string> DistributionSources(const labels::Labels& have, std::string_view host);

// The label a blob labelled `have` gets when pulled from `host`/`repository`: the repositories it
// has plus this one, sorted and unique (containerd's appendDistributionSourceLabel). No label
// when the result would be too long for one (containerd then skips it).
labels::Labels AppendDistributionSource(const labels::Labels& have, std::string_view host,
                                        std::string_view repository);

}  // namespace berth::images
