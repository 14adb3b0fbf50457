// Splitting a command's output into lines, for the tests that read listings.
#pragma once

#include <string>
#include <vector>

namespace berth::e2e {

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text);

}  // namespace berth::e2e
