// The shim's ttrpc socket: where it lives, how `start` creates it, how it goes away.
// containerd's shims listen on unix:///run/containerd/s/<sha256(address/ns/id)>; berth-shim
// does the same under its own state dir (/run/berth/s), so a `start` for a task whose shim
// is still alive finds that shim's socket again. The path stays well under the 108 bytes of
// sun_path (13 + 64).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::shim {

inline constexpr const char* kDefaultSocketDir = "/run/berth/s";

// `<dir>/<hex sha256 of "address/ns/id">` (the join as Go's filepath.Join would make it).
std::string SocketPath(std::string_view dir, std::string_view daemon_address, std::string_view ns,
                       std::string_view id);

// "unix://<path>"
std::string SocketAddress(std::string_view path);
// The path of a "unix://path" / "unix:path" / "path" address.
std::string_view SocketPathOf(std::string_view address);

// Creates the parent directory, binds and listens (mode 0600). AlreadyExists when the path
// is taken (a socket file is there, live or stale).
Result<UniqueFd> ListenUnix(const std::string& path);
// Whether something accepts connections at `path`.
bool CanConnect(const std::string& path);
// Removes a socket file (not there is fine).
void RemoveSocket(const std::string& path);

}  // namespace berth::shim
