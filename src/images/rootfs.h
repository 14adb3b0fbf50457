// An image's root filesystem as snapshotters hold it: the config's diff ids, the chain ids
// naming the committed snapshot of each layer stack (the OCI image-spec's identity.ChainID,
// which unpacking uses as snapshot names), and the names `berth images mount` gives a mount.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::images {

// "sha256:<hex>" of `data`.
std::string Sha256Digest(std::string_view data);

// The config's rootfs.diff_ids, in layer order. InvalidArgument when the JSON is not an
// image config, rootfs.type is not "layers", or a diff id is not a string.
Result<std::vector<std::string>> ConfigDiffIds(std::string_view config_json);

// identity.ChainIDs: chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);
// The last of ChainIds (the image's whole root filesystem); "" for no layers.
std::string ChainId(const std::vector<std::string>& diff_ids);

// The lease an image mount on `target` (an absolute path) creates: "berth-mount-" and the
// first 16 hex digits of the path's sha256 (a path is no valid lease id).
std::string MountLeaseId(const std::string& target);

}  // namespace berth::images
