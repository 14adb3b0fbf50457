#include "remotes/credentials.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "remotes/base64.h"

namespace berth::remotes {
namespace {

// Docker Hub goes by several names; its config key is "https://index.docker.io/v1/".
bool IsDockerHub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

// A config key as docker reads it (convertToHostname): without scheme and path.
std::string_view KeyHost(std::string_view key) {
  if (key.starts_with("http://")) {
    key.remove_prefix(7);
  } else if (key.starts_with("https://")) {
    key.remove_prefix(8);
  }
  return key.substr(0, key.find('/'));
}

bool SameHost(std::string_view key_host, std::string_view host) {
  return key_host == host || (IsDockerHub(key_host) && IsDockerHub(host));
}

Result<std::optional<Credentials>> FromEntry(const nlohmann::json& entry, std::string_view key,
                                             const std::filesystem::path& file) {
  if (!entry.is_object()) return std::optional<Credentials>{};
  auto str = [&](const char* name) {
    auto it = entry.find(name);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (std::string token = str("identitytoken"); !token.empty()) {
    return std::optional<Credentials>(Credentials{.username = "", .secret = std::move(token)});
  }
  if (std::string auth = str("auth"); !auth.empty()) {
    auto decoded = Base64Decode(auth);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      // The value itself is a secret: name only the key and the file.
      return InvalidArgument("docker config {}: auth of \"{}\" is not base64 \"user:password\"",
                             file.string(), key);
    }
    return std::optional<Credentials>(
        Credentials{.username = decoded->substr(0, colon), .secret = decoded->substr(colon + 1)});
  }
  if (std::string user = str("username"); !user.empty()) {
    return std::optional<Credentials>(Credentials{.username = std::move(user), .secret = str("password")});
  }
  return std::optional<Credentials>{};  // e.g. only a credential helper: not supported
}

}  // namespace

Result<Credentials> ParseUserFlag(std::string_view user) {
  size_t colon = user.find(':');
  std::string_view name = user.substr(0, colon);
  if (name.empty()) return InvalidArgument("--user: empty user name");
  Credentials c{.username = std::string(name), .secret = ""};
  if (colon != std::string_view::npos) c.secret = std::string(user.substr(colon + 1));
  return c;
}

Result<std::optional<Credentials>> DockerConfigCredentials(const std::filesystem::path& config_json,
                                                           std::string_view host) {
  std::ifstream in(config_json);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(config_json, ec)) return std::optional<Credentials>{};
    return Unknown("docker config {}: cannot be read", config_json.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  auto config = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgument("docker config {}: not a JSON object", config_json.string());
  }
  auto auths = config.find("auths");
  if (auths == config.end() || !auths->is_object()) return std::optional<Credentials>{};

  // The exact key first, then any key naming the same host (docker's own lookup order).
  if (auto exact = auths->find(std::string(host)); exact != auths->end()) {
    BERTH_ASSIGN_OR_RETURN(auto creds, FromEntry(*exact, exact.key(), config_json));
    if (creds) return creds;
  }
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    if (!SameHost(KeyHost(it.key()), host)) continue;
    BERTH_ASSIGN_OR_RETURN(auto creds, FromEntry(*it, it.key(), config_json));
    if (creds) return creds;
  }
  return std::optional<Credentials>{};
}

std::filesystem::path DefaultDockerConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return std::filesystem::path(dir) / "config.json";
  }
  std::filesystem::path home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    home = h;
  } else if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  return home / ".docker" / "config.json";
}

}  // namespace berth::remotes
