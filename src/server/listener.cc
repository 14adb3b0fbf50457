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

Result<StagedSocket> StagedSocket::Make(const std::filesystem::path& final_path) {
  // Beside the final path (a rename does not cross file systems), named by pid: a crashed
  // daemon's leftover of the same name is removed first.
  std::filesystem::path dir = final_path.parent_path() / fmt::format(".{}.{}", final_path.filename().string(), ::getpid());
  files::RemoveAll(dir).IgnoreError();
  if (::mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus(fmt::format("create {}", dir.string()), errno);
  StagedSocket staged(dir, final_path);
  if (staged.path_.string().size() >= sizeof(sockaddr_un::sun_path)) {
    return InvalidArgument("socket path {} is too long to stage beside it (at most {} bytes)", final_path.string(),
                           sizeof(sockaddr_un::sun_path) - 1 - (staged.path_.string().size() - final_path.string().size()));
  }
  return staged;
}

StagedSocket::StagedSocket(StagedSocket&& other) noexcept
    : dir_(std::move(other.dir_)), path_(std::move(other.path_)), final_(std::move(other.final_)) {
  other.dir_.clear();
}

StagedSocket::~StagedSocket() {
  if (!dir_.empty()) files::RemoveAll(dir_).IgnoreError();
}

Status StagedSocket::Publish(int64_t uid, int64_t gid) {
  if (::chmod(path_.c_str(), 0660) != 0) return ErrnoStatus(fmt::format("chmod {}", path_.string()), errno);
  if ((uid != 0 || gid != 0) &&
      ::chown(path_.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
    return ErrnoStatus(fmt::format("chown {} to {}:{}", path_.string(), uid, gid), errno);
  }
  if (::rename(path_.c_str(), final_.c_str()) != 0) {
    return ErrnoStatus(fmt::format("rename {} to {}", path_.string(), final_.string()), errno);
  }
  return Status::Ok();
}

}  // namespace berth::server
