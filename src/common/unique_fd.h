// Owned descriptors: a file descriptor (UniqueFd) and a directory stream (UniqueDir), closed
// exactly once, when their owner goes. Every descriptor berth keeps beyond one statement is held
// by one of these (or by a class that holds one).
//
// Not thread-safe: one owner at a time (move them to hand them over).
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

namespace berth {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Closes what is held (if anything) and takes `fd`.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  // Gives the descriptor up without closing it: the caller owns it now.
  [[nodiscard]] int Release() { return std::exchange(fd_, -1); }
  // Closes now and reports close(2)'s result (0 or an errno); -1 when there was nothing open.
  int Close() {
    if (fd_ < 0) return -1;
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

// An opendir(3)/fdopendir(3) stream; closedir(3) when it goes.
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace berth
