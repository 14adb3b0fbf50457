#include "images/rootfs.h"

#include <nlohmann/json.hpp>

#include "common/digest.h"

namespace berth::images {

std::string Sha256Digest(std::string_view data) { return Sha256Of(data).String(); }

Result<std::vector<std::string>> ConfigDiffIds(std::string_view config_json) {
  using nlohmann::json;
  json j = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("image config: not a JSON object");
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) return InvalidArgument("image config: no rootfs");
  auto type = rootfs->find("type");
  if (type == rootfs->end() || !type->is_string() || *type != "layers") {
    return InvalidArgument("image config: rootfs type is not \"layers\"");
  }
  std::vector<std::string> out;
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || ids->is_null()) return out;
  if (!ids->is_array()) return InvalidArgument("image config: rootfs.diff_ids is not a list");
  for (const auto& id : *ids) {
    if (!id.is_string()) return InvalidArgument("image config: a diff id is not a string");
    out.push_back(id.get<std::string>());
  }
  return out;
}

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  out.reserve(diff_ids.size());
  for (const auto& diff : diff_ids) {
    out.push_back(out.empty() ? diff : Sha256Digest(out.back() + " " + diff));
  }
  return out;
}

std::string ChainId(const std::vector<std::string>& diff_ids) {
  auto chain = ChainIds(diff_ids);
  return chain.empty() ? std::string() : chain.back();
}

std::string MountLeaseId(const std::string& target) {
  return "berth-mount-" + Sha256Digest(target).substr(7, 16);
}

}  // namespace berth::images
