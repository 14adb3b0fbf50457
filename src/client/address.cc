#include "client/address.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace berth::client {

Result<std::string> SocketPath(std::string_view address) {
  std::string_view path = address;
  if (path.starts_with("unix://")) {
    path.remove_prefix(7);
  } else if (path.starts_with("unix:")) {
    path.remove_prefix(5);
  } else if (auto scheme = path.find("://"); scheme != std::string_view::npos) {
    return InvalidArgument("address {:?}: only unix sockets are supported", address);
  }
  if (path.empty()) return InvalidArgument("address {:?} has no socket path", address);
  // sun_path holds at most 107 bytes and the terminating NUL.
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return InvalidArgument("socket path {:?} is too long", path);
  }
  return std::string(path);
}

std::string ProbeSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::strerror(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  if (rc == 0) return "";
  // strerror's "No such file or directory" reads better lower-cased mid-sentence, as Go's.
  std::string reason = std::strerror(err);
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return reason;
}

}  // namespace berth::client
