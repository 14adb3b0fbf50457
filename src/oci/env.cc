#include "oci/env.h"

#include <fstream>
#include <map>

namespace berth::oci {

std::vector<std::string> ReplaceOrAppendEnv(const std::vector<std::string>& defaults,
                                            const std::vector<std::string>& overrides) {
  std::vector<std::string> results;
  std::map<std::string, size_t> index;  // key -> position in results
  for (const auto& e : defaults) {
    index[e.substr(0, e.find('='))] = results.size();
    results.push_back(e);
  }
  std::vector<bool> removed(results.size(), false);
  for (const auto& value : overrides) {
    size_t eq = value.find('=');
    if (eq == std::string::npos) {
      if (auto it = index.find(value); it != index.end()) removed[it->second] = true;
      continue;
    }
    if (auto it = index.find(value.substr(0, eq)); it != index.end()) {
      results[it->second] = value;
      removed[it->second] = false;
    } else {
      results.push_back(value);
      removed.push_back(false);
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!removed[i] && !results[i].empty()) out.push_back(results[i]);
  }
  return out;
}

Result<std::vector<std::string>> ReadEnvFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return ErrnoStatus(fmt::format("open env file {}", path.string()), errno);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace berth::oci
