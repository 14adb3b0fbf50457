#include "images/checkpoint_index.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace berth::images {

namespace {

using OrderedJson = nlohmann::ordered_json;

}  // namespace

std::string EncodeCheckpointIndex(const CheckpointIndex& index, const Platform& platform) {
  OrderedJson out;
  out["schemaVersion"] = 2;
  out["mediaType"] = std::string(kOciIndex);
  out["manifests"] = OrderedJson::array();
  for (const IndexEntry& b : index.manifests) {
    OrderedJson d;
    d["mediaType"] = b.media_type;
    d["digest"] = b.digest;
    d["size"] = b.size;
    if (!b.annotations.empty()) {
      OrderedJson a = OrderedJson::object();
      for (const auto& [k, v] : b.annotations) a[k] = v;
      d["annotations"] = std::move(a);
    }
    if (!b.with_platform) {
      out["manifests"].push_back(std::move(d));
      continue;
    }
    OrderedJson p;
    p["architecture"] = platform.architecture;
    p["os"] = platform.os;
    if (!platform.variant.empty()) p["variant"] = platform.variant;
    d["platform"] = std::move(p);
    out["manifests"].push_back(std::move(d));
  }
  if (!index.annotations.empty()) {
    OrderedJson a = OrderedJson::object();
    for (const auto& [k, v] : index.annotations) a[k] = v;  // sorted, as Go marshals a map
    out["annotations"] = std::move(a);
  }
  return out.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

labels::Labels CheckpointIndexGcLabels(const CheckpointIndex& index) {
  labels::Labels out;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    out[fmt::format("containerd.io/gc.ref.content.{}", i)] = index.manifests[i].digest;
  }
  return out;
}

Result<CheckpointIndex> DecodeCheckpointIndex(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("checkpoint index: not a JSON object");
  auto version = doc.find("schemaVersion");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return InvalidArgument("checkpoint index: schemaVersion must be 2");
  }
  auto manifests = doc.find("manifests");
  if (manifests == doc.end() || !manifests->is_array()) {
    return InvalidArgument("checkpoint index: no manifests array");
  }
  CheckpointIndex out;
  for (const auto& m : *manifests) {
    if (!m.is_object()) return InvalidArgument("checkpoint index: a manifest is not an object");
    auto media_type = m.find("mediaType");
    auto digest = m.find("digest");
    auto size = m.find("size");
    if (media_type == m.end() || !media_type->is_string() || digest == m.end() || !digest->is_string() ||
        size == m.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
      return InvalidArgument("checkpoint index: a manifest lacks a mediaType, digest or size");
    }
    IndexEntry e{media_type->get<std::string>(), digest->get<std::string>(), size->get<int64_t>(), {},
                 m.contains("platform")};
    if (auto a = m.find("annotations"); a != m.end() && a->is_object()) {
      for (auto it = a->begin(); it != a->end(); ++it) {
        if (it.value().is_string()) e.annotations[it.key()] = it.value().get<std::string>();
      }
    }
    out.manifests.push_back(std::move(e));
  }
  auto annotations = doc.find("annotations");
  if (annotations != doc.end() && annotations->is_object()) {
    for (auto it = annotations->begin(); it != annotations->end(); ++it) {
      if (it.value().is_string()) out.annotations[it.key()] = it.value().get<std::string>();
    }
  }
  return out;
}

const IndexEntry* FindEntry(const CheckpointIndex& index, std::string_view media_type) {
  for (const IndexEntry& b : index.manifests) {
    if (b.media_type == media_type) return &b;
  }
  return nullptr;
}

}  // namespace berth::images
