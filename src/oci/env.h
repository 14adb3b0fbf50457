// Process environment lists ("KEY=value"), merged as containerd's oci package does.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::oci {

// containerd's replaceOrAppendEnvValues: each override "K=v" replaces the default with key K
// (or is appended); an override without '=' ("K") removes K from the defaults.
std::vector<std::string> ReplaceOrAppendEnv(const std::vector<std::string>& defaults,
                                            const std::vector<std::string>& overrides);

// The lines of an env file (ctr --env-file: every line as is, one variable each).
Result<std::vector<std::string>> ReadEnvFile(const std::filesystem::path& path);

}  // namespace berth::oci
