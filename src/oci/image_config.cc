#include "oci/image_config.h"

#include <nlohmann/json.hpp>

namespace berth::oci {

Result<ImageConfig> ParseImageConfig(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("image config is not a JSON object");
  }
  ImageConfig out;
  auto it = doc.find("config");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) return InvalidArgument("image config: \"config\" is not an object");
  const auto& c = *it;
  try {
    auto str = [&](const char* key, std::string& to) {
      if (auto f = c.find(key); f != c.end() && !f->is_null()) to = f->get<std::string>();
    };
    auto list = [&](const char* key, std::vector<std::string>& to) {
      if (auto f = c.find(key); f != c.end() && !f->is_null()) {
        to = f->get<std::vector<std::string>>();
      }
    };
    str("User", out.user);
    str("WorkingDir", out.working_dir);
    str("StopSignal", out.stop_signal);
    list("Env", out.env);
    list("Entrypoint", out.entrypoint);
    list("Cmd", out.cmd);
    if (auto f = c.find("Labels"); f != c.end() && !f->is_null()) {
      out.labels = f->get<std::map<std::string, std::string>>();
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("image config: {}", e.what());
  }
  return out;
}

}  // namespace berth::oci
