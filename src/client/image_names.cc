#include "client/image_names.h"

#include "remotes/reference.h"

namespace berth::client {

Result<std::string> NormalizeDockerRef(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(remotes::Reference parsed, remotes::ParseReference(ref));
  if (!parsed.digest.empty()) {
    parsed.tag.clear();
  } else if (parsed.tag.empty()) {
    parsed.tag = "latest";
  }
  return parsed.String();
}

Result<std::string> FamiliarizeRef(std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(remotes::Reference parsed, remotes::ParseReference(ref));
  if (parsed.tag.empty() && parsed.digest.empty()) parsed.tag = "latest";
  std::string out = parsed.String();
  if (parsed.domain == "docker.io") {
    std::string path = parsed.path;
    if (path.starts_with("library/") && path.find('/', 8) == std::string::npos)
      path = path.substr(8);
    out = path;
    if (!parsed.tag.empty()) out += ":" + parsed.tag;
    if (!parsed.digest.empty()) out += "@" + parsed.digest;
  }
  return out;
}

std::string OciRefName(std::string_view name) {
  if (name.find("://") != std::string_view::npos) return std::string(name);
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) return std::string(name);
  std::string_view path = name.substr(slash);
  const size_t split = path.find_first_of(":@");
  if (split == std::string_view::npos) return "";
  std::string_view object = path.substr(split);
  if (object.front() == ':') object.remove_prefix(1);
  return std::string(object);
}

std::string TranslateRefName(std::string_view ref, std::string_view prefix, bool check_prefix) {
  if (ref.find_first_of("/:@") != std::string_view::npos) {
    if (check_prefix) {
      if (!ref.starts_with(prefix)) return "";
      if (ref.size() > prefix.size()) {
        char next = ref[prefix.size()];
        if (next != '/' && next != ':' && next != '@') return "";
      }
    }
    return std::string(ref);
  }
  return std::string(prefix) + ":" + std::string(ref);
}

}  // namespace berth::client
