// Validation of object identifiers (namespaces, containers, snapshots keys' ids, leases),
// by containerd's rules: 1..76 characters, alphanumeric runs joined by single '.', '_' or '-'.
#pragma once

#include <string_view>

#include "common/status.h"

namespace berth::identifiers {

inline constexpr size_t kMaxLength = 76;

// kInvalidArgument with containerd's wording when `id` is not a valid identifier.
Status Validate(std::string_view id);

}  // namespace berth::identifiers
