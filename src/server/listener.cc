#include "server/listener.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/files.h"

namespace berth::server {

Result<DirLock> DirLock::Acquire(const std::filesystem::path& dir) {
  std::filesystem::path lock = dir / "berthd.lock";
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open(lock, O_RDWR | O_CREAT, 0600));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailedPrecondition("{} is in use by another berthd (lock {} is held)", dir.string(),
                                lock.string());
    }
    return ErrnoStatus(fmt::format("lock {}", lock.string()), errno);
  }
  return DirLock(std::move(fd));
}

namespace {

// True when a server accepts connections on the socket.
bool SomeoneListens(const std::filesystem::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

Status PrepareSocketPath(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return Status(Errc::kUnknown, fmt::format("create socket directory {}: {}",
                                              path.parent_path().string(), ec.message()));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus(fmt::format("stat {}", path.string()), errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition("{} exists and is not a socket; refusing to replace it", path.string());
  }
  if (SomeoneListens(path)) {
    return FailedPrecondition("another daemon is already serving on {}", path.string());
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(fmt::format("remove stale socket {}", path.string()), errno);
  }
  return Status::Ok();
}

Status RestrictSocket(const std::filesystem::path& path) {
  if (::chmod(path.c_str(), 0660) != 0) {
    return ErrnoStatus(fmt::format("chmod {}", path.string()), errno);
  }
  return Status::Ok();
}

}  // namespace berth::server
