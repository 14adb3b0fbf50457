// Registry credentials: from the command line (`--user user[:password]`) or from docker's
// ~/.docker/config.json (`auths.<host>.auth` = base64 "user:password", or username/password,
// or identitytoken). Never logged.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::remotes {

struct Credentials {
  std::string username;
  std::string secret;  // password, or the identity (refresh) token when username is empty
};

// Credentials for a registry host ("127.0.0.1:5000"); nullopt: anonymous.
using CredentialsFn = std::function<std::optional<Credentials>(const std::string& host)>;

// `user[:password]` as ctr's --user; InvalidArgument for an empty user.
Result<Credentials> ParseUserFlag(std::string_view user);

// Credentials for `host` from a docker config.json (the keys may be a bare host, a URL
// "https://host/v1/", "http://host"); nullopt when the file or the host is absent;
// InvalidArgument when the file is not valid JSON or an auth value is not valid base64.
Result<std::optional<Credentials>> DockerConfigCredentials(const std::filesystem::path& config_json,
                                                           std::string_view host);

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::filesystem::path DefaultDockerConfigPath();

}  // namespace berth::remotes
