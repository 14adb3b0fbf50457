// The daemon's unix socket and its exclusive lock: one berthd per root, one per socket.
#pragma once

#include <filesystem>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::server {

// An exclusive flock on `<dir>/berthd.lock`, held for the daemon's lifetime.
// Not thread-safe: owned by the Server (berthd's main thread) for the daemon's lifetime.
class DirLock {
 public:
  static Result<DirLock> Acquire(const std::filesystem::path& dir);

 private:
  explicit DirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // the lock goes with it
};

// Makes `path` ready to bind: creates its parent directory, removes a stale socket left by
// a crashed daemon, and refuses (FailedPrecondition) when a live server answers on it or
// when something that is not a socket is in the way.
Status PrepareSocketPath(const std::filesystem::path& path);

// Where a server binds a socket before it is published at its final path: a socket file in a
// private (0700) directory beside that path, unreachable by anyone else until Publish has given
// it its mode and owner and renamed it into place. So the socket never exists with the
// process umask's mode, and the umask (process-wide state) is never changed while other
// threads create files. The (then empty) directory is removed by the destructor.
// Not thread-safe: used by the thread starting the server.
class StagedSocket {
 public:
  // For the socket to be published at `final_path` (whose directory must exist).
  static Result<StagedSocket> Make(const std::filesystem::path& final_path);
  ~StagedSocket();
  StagedSocket(StagedSocket&& other) noexcept;
  StagedSocket& operator=(StagedSocket&&) = delete;
  StagedSocket(const StagedSocket&) = delete;

  // The path to bind.
  const std::filesystem::path& path() const { return path_; }
  // chmod 0660, chown to uid:gid when either is not 0, rename to the final path.
  Status Publish(int64_t uid, int64_t gid);

 private:
  StagedSocket(std::filesystem::path dir, std::filesystem::path final_path)
      : dir_(std::move(dir)), path_(dir_ / "s"), final_(std::move(final_path)) {}
  std::filesystem::path dir_, path_, final_;
};

}  // namespace berth::server
