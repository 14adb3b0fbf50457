#include "images/distribution_source.h"

#include <set>

namespace berth::images {

std::string DistributionSourceKey(std::string_view host) {
  return std::string(kDistributionSourceLabelPrefix) + std::string(host);
}

std::vector<std::string> DistributionSources(const labels::Labels& have, std::string_view host) {
  std::vector<std::string> out;
  auto it = have.find(DistributionSourceKey(host));
  if (it == have.end()) return out;
  std::string_view v = it->second;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view repo = v.substr(0, comma);
    if (!repo.empty()) out.emplace_back(repo);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

labels::Labels AppendDistributionSource(const labels::Labels& have, std::string_view host,
                                        std::string_view repository) {
  std::vector<std::string> sources = DistributionSources(have, host);
  std::set<std::string> repos(sources.begin(), sources.end());
  repos.emplace(repository);
  std::string value;
  for (const auto& r : repos) value += (value.empty() ? "" : ",") + r;
  std::string key = DistributionSourceKey(host);
  if (!labels::Validate(key, value).ok()) return {};
  return {{std::move(key), std::move(value)}};
}

}  // namespace berth::images
