#include "shim/socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/digest.h"

namespace berth::shim {
namespace {

Result<sockaddr_un> UnixAddr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("socket path {:?} is longer than {} bytes", path, sizeof(addr.sun_path) - 1);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

std::string SocketPath(std::string_view dir, std::string_view daemon_address, std::string_view ns,
                       std::string_view id) {
  std::string joined = std::filesystem::path(std::string(daemon_address)).append(std::string(ns))
                           .append(std::string(id)).lexically_normal().string();
  return std::string(dir) + "/" + Sha256Of(joined).hex;
}

std::string SocketAddress(std::string_view path) { return "unix://" + std::string(path); }

std::string_view SocketPathOf(std::string_view address) {
  if (address.starts_with("unix://")) address.remove_prefix(7);
  else if (address.starts_with("unix:")) address.remove_prefix(5);
  return address;
}

Result<UniqueFd> ListenUnix(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddr(path));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Unknown("create {}: {}", std::filesystem::path(path).parent_path().string(), ec.message());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EADDRINUSE) return AlreadyExists("socket {}", path);
    return ErrnoStatus("bind " + path, errno);
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 128) != 0) {
    Status st = ErrnoStatus("listen " + path, errno);
    ::unlink(path.c_str());
    return st;
  }
  return fd;
}

bool CanConnect(const std::string& path) {
  auto addr = UnixAddr(path);
  if (!addr.ok()) return false;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(sockaddr_un)) == 0;
}

void RemoveSocket(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

}  // namespace berth::shim
