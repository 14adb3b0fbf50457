// The daemon's address: a unix socket, written "/path" or "unix:///path".
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::client {

// The socket path of an address ("unix:///run/b.sock", "unix:/run/b.sock" or "/run/b.sock").
// Other schemes are kInvalidArgument.
Result<std::string> SocketPath(std::string_view address);

// Why connecting to the socket at `path` fails, found by trying a plain connect(2):
// "no such file or directory", "connection refused", ... Empty when the connect succeeds.
std::string ProbeSocket(const std::string& path);

}  // namespace berth::client
