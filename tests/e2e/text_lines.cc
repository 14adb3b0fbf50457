#include "text_lines.h"

#include <sstream>

namespace berth::e2e {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::map<std::string, std::string> TaskStatuses(const std::string& ls_output) {
  std::map<std::string, std::string> out;
  auto lines = Lines(ls_output);
  for (size_t i = 1; i < lines.size(); ++i) {  // after the header
    std::istringstream fields(lines[i]);
    std::string id, pid, status;
    if (fields >> id >> pid >> status) out[id] = status;
  }
  return out;
}

}  // namespace berth::e2e
