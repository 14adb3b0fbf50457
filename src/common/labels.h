// Label validation and helpers shared by every labelled object.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::labels {

using Labels = std::map<std::string, std::string>;

inline constexpr size_t kMaxSize = 4096;  // key + value, bytes

// containerd's limit: key and value together at most 4096 bytes.
Status Validate(std::string_view key, std::string_view value);
Status ValidateAll(const Labels& labels);

// Applies a field-mask style update to `current`: for each path "labels" (replace all) or
// "labels.<key>" (set or, when absent from `update`, delete that key).
// Paths not starting with "labels" are returned in `unhandled` for the caller to judge.
Status ApplyMask(Labels& current, const Labels& update, const std::vector<std::string>& paths,
                 std::vector<std::string>* unhandled);

// Parses "k=v" arguments (CLI); "k" alone sets an empty value.
Result<Labels> ParseKeyValues(const std::vector<std::string>& args);

}  // namespace berth::labels
