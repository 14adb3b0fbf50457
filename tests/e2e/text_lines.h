// Splitting a command's output into lines, for the tests that read listings.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace berth::e2e {

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text);

// `ctr task ls`'s TASK PID STATUS rows: status by task id.
std::map<std::string, std::string> TaskStatuses(const std::string& ls_output);

}  // namespace berth::e2e
