#include "shim/stdio_pipe.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace berth::shim {

namespace {

// A fifo of exactly `mode`'s permissions, opened for reading (non-blocking: no writer needed),
// its name gone again.
Result<UniqueFd> OpenStandIn(const std::string& dir, uint32_t mode, std::string* path) {
  static int serial = 0;
  *path = fmt::format("{}/restore-stdio-{}-{}", dir, ::getpid(), ++serial);
  if (::mkfifo(path->c_str(), 0600) != 0) return ErrnoStatus("mkfifo " + *path, errno);
  if (::chmod(path->c_str(), mode & 07777) != 0) {
    int err = errno;
    ::unlink(path->c_str());
    return ErrnoStatus("chmod " + *path, err);
  }
  UniqueFd read(::open(path->c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!read) {
    int err = errno;
    ::unlink(path->c_str());
    return ErrnoStatus("open " + *path, err);
  }
  return read;
}

}  // namespace

Result<UniqueFd> StdioPipe::EmptyInput(const std::string& dir, uint32_t mode) {
  std::string path;
  BERTH_ASSIGN_OR_RETURN(UniqueFd read, OpenStandIn(dir, mode, &path));
  ::unlink(path.c_str());
  return read;
}

Result<std::unique_ptr<StdioPipe>> StdioPipe::Output(ttrpc::EventLoop& loop, const std::string& dir, uint32_t mode,
                                                     UniqueFd target, UniqueFd* child) {
  std::string path;
  BERTH_ASSIGN_OR_RETURN(UniqueFd read, OpenStandIn(dir, mode, &path));
  *child = UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  int err = errno;
  ::unlink(path.c_str());
  if (!*child) return ErrnoStatus("open " + path, err);
  std::unique_ptr<StdioPipe> p(new StdioPipe(loop, std::move(read), std::move(target)));
  StdioPipe* raw = p.get();
  BERTH_RETURN_IF_ERROR(loop.Add(raw->read_.get(), EPOLLIN, [raw](uint32_t) {
    if (!raw->Drain() && raw->watched_) {
      raw->loop_.Remove(raw->read_.get());
      raw->watched_ = false;
    }
  }));
  p->watched_ = true;
  return p;
}

StdioPipe::~StdioPipe() {
  if (watched_) {
    Drain();
    loop_.Remove(read_.get());
  }
}

bool StdioPipe::Drain() {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(read_.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    if (n == 0) return false;
    for (ssize_t off = 0; target_.get() >= 0 && off < n;) {
      ssize_t w = ::write(target_.get(), buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;  // the target went: the rest is dropped, the container keeps going
      off += w;
    }
  }
}

}  // namespace berth::shim
