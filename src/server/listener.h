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

// Sets the socket's mode to 0660 once the server has bound it.
Status RestrictSocket(const std::filesystem::path& path);

}  // namespace berth::server
