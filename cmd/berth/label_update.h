// `berth <object> label OBJECT k=v...`: the labels and update-mask paths to send.
#pragma once

#include <string>
#include <vector>

#include "common/labels.h"
#include "common/status.h"

namespace berth::cli {

struct LabelUpdate {
  labels::Labels labels;           // the labels to set (non-empty values)
  std::vector<std::string> paths;  // "labels.<key>" for every key given
};

// From "k=v" arguments, as ctr's label commands: one path per key; a key with an empty value
// ("k=" or "k") is in the paths but not the labels, so the daemon removes it.
Result<LabelUpdate> ParseLabelUpdate(const std::vector<std::string>& args);

}  // namespace berth::cli
