#include "common/labels.h"

namespace berth::labels {

Status Validate(std::string_view key, std::string_view value) {
  if (key.size() + value.size() > kMaxSize) {
    return InvalidArgument("label key and value greater than maximum size ({} bytes), key: {}",
                           kMaxSize, key.substr(0, 10));
  }
  return Status::Ok();
}

Status ValidateAll(const Labels& labels) {
  for (const auto& [k, v] : labels) BERTH_RETURN_IF_ERROR(Validate(k, v));
  return Status::Ok();
}

Status ApplyMask(Labels& current, const Labels& update, const std::vector<std::string>& paths,
                 std::vector<std::string>* unhandled) {
  for (const auto& path : paths) {
    if (path == "labels") {
      BERTH_RETURN_IF_ERROR(ValidateAll(update));
      current = update;
    } else if (path.starts_with("labels.")) {
      std::string key = path.substr(7);
      if (auto it = update.find(key); it != update.end()) {
        BERTH_RETURN_IF_ERROR(Validate(key, it->second));
        current[key] = it->second;
      } else {
        current.erase(key);
      }
    } else if (unhandled != nullptr) {
      unhandled->push_back(path);
    } else {
      return InvalidArgument("cannot update {:?} field", path);
    }
  }
  return Status::Ok();
}

Result<Labels> ParseKeyValues(const std::vector<std::string>& args) {
  Labels out;
  for (const auto& arg : args) {
    auto eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key.empty()) return InvalidArgument("label {:?} has an empty key", arg);
    BERTH_RETURN_IF_ERROR(Validate(key, value));
    out[key] = value;
  }
  return out;
}

}  // namespace berth::labels
