// Which scheme a registry is talked to with, as ctr 1.6 decides it without a hosts directory
// (containerd's remotes/docker/config.ConfigureHosts): a loopback registry gets plain http.
#pragma once

#include <string_view>

#include "remotes/types.h"

namespace berth::remotes {

// containerd's docker.IsLocalhost: the host of `host` ("name", "name:port", "[v6]:port", a
// bare v6 address) is "localhost" or a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
bool IsLocalhost(std::string_view host);

// "http" or "https" for `host` (a reference's domain) under `options`.
std::string_view RegistryScheme(std::string_view host, const RegistryOptions& options);

}  // namespace berth::remotes
