#include "shim/runtime_options.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "common/files.h"

namespace berth::shim {

Result<RuncOptions> UnpackOptions(const google::protobuf::Any& any) {
  RuncOptions o;
  if (any.type_url().empty() && any.value().empty()) return o;
  std::string_view url = any.type_url();
  if (auto slash = url.rfind('/'); slash != std::string_view::npos) url.remove_prefix(slash + 1);
  if (url != RuncOptions::descriptor()->full_name()) {
    return InvalidArgument("unsupported runtime options type {:?}", any.type_url());
  }
  if (!o.ParseFromString(any.value())) return InvalidArgument("cannot decode runtime options");
  return o;
}

Status WriteOptions(const std::string& bundle, const RuncOptions& opts) {
  google::protobuf::util::JsonPrintOptions jo;
  jo.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(opts, &json, jo).ok()) return Internal("encode options");
  BERTH_RETURN_IF_ERROR(files::WriteFile(bundle + "/" + kOptionsFile, json));
  // containerd also writes the binary alone (best effort there too)
  files::WriteFile(bundle + "/runtime", opts.binary_name()).IgnoreError();
  return Status::Ok();
}

Result<RuncOptions> ReadOptions(const std::string& bundle) {
  auto json = files::ReadSmall(bundle + "/" + kOptionsFile);
  if (!json.ok()) return NotFound("{}/{}", bundle, kOptionsFile);
  RuncOptions o;
  google::protobuf::util::JsonParseOptions po;
  po.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(*json, &o, po).ok()) {
    return InvalidArgument("{}/{}: cannot parse", bundle, kOptionsFile);
  }
  return o;
}

RuntimeConfig RuntimeConfigFor(const RuncOptions& opts, const std::string& ns, const std::string& bundle) {
  RuntimeConfig c;
  c.binary = opts.binary_name().empty() ? "runc" : opts.binary_name();
  c.root = (opts.root().empty() ? std::string(kDefaultRuntimeRoot) : opts.root()) + "/" + ns;
  c.log_path = bundle + "/log.json";
  c.systemd_cgroup = opts.systemd_cgroup();
  c.criu_path = opts.criu_path();
  return c;
}

bool ShouldKillAllOnExit(const std::string& bundle) {
  auto text = files::ReadSmall(bundle + "/config.json", kSpecLimit);
  if (!text.ok()) return true;
  auto spec = nlohmann::json::parse(*text, nullptr, false);
  if (!spec.is_object()) return true;
  auto linux_it = spec.find("linux");
  if (linux_it == spec.end() || !linux_it->is_object()) return true;
  auto ns = linux_it->find("namespaces");
  if (ns == linux_it->end() || !ns->is_array()) return true;
  for (const auto& n : *ns) {
    if (n.is_object() && n.value("type", "") == "pid" && n.value("path", "").empty()) return false;
  }
  return true;
}

}  // namespace berth::shim
