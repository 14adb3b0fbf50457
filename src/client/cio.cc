#include "client/cio.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/logging.h"

namespace berth::client {
namespace {

namespace fs = std::filesystem;

// Writes all of `data` to `fd`, waiting for it to take more (and for `stop_fd`); false when
// the reader is gone, stopped, or on error.
bool WriteAll(int fd, const char* data, size_t size, int stop_fd) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd fds[2] = {{fd, POLLOUT, 0}, {stop_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
      if (fds[1].revents != 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// A SIGPIPE from writing to a fifo whose reader left is an error return here, not a death.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

Result<std::unique_ptr<FifoSet>> FifoSet::Create(const std::string& id, bool terminal,
                                                 const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Unknown("create fifo root {}: {}", root.string(), ec.message());
  ::chmod(root.c_str(), 0700);
  std::string tmpl = (root / "XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return ErrnoStatus(fmt::format("create fifo dir under {}", root.string()), errno);
  }
  std::unique_ptr<FifoSet> set(new FifoSet());
  set->dir_ = tmpl;
  set->paths_ = IoPaths{(set->dir_ / (id + "-stdin")).string(),
                        (set->dir_ / (id + "-stdout")).string(),
                        (set->dir_ / (id + "-stderr")).string(), terminal};
  for (const std::string* path : {&set->paths_.stdin_path, &set->paths_.stdout_path,
                                  &set->paths_.stderr_path}) {
    if (terminal && path == &set->paths_.stderr_path) continue;
    if (::mkfifo(path->c_str(), 0700) != 0) {
      return ErrnoStatus(fmt::format("mkfifo {}", *path), errno);
    }
  }
  return set;
}

FifoSet::~FifoSet() {
  if (keep_ || dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void RemoveFifoDir(const IoPaths& paths, const fs::path& root) {
  for (const std::string& path : {paths.stdout_path, paths.stdin_path, paths.stderr_path}) {
    if (path.empty()) continue;
    fs::path dir = fs::path(path).parent_path();
    if (dir.parent_path() != root) continue;  // not one of ours
    std::error_code ec;
    fs::remove_all(dir, ec);
    return;
  }
}

IoCopier::IoCopier(const IoPaths& paths, Streams streams, std::function<void()> on_stdin_eof)
    : stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      stdin_path_(paths.stdin_path),
      on_stdin_eof_(std::move(on_stdin_eof)) {
  std::vector<std::pair<std::string, int>> outputs;
  if (!paths.stdout_path.empty()) outputs.emplace_back(paths.stdout_path, streams.out);
  if (!paths.terminal && !paths.stderr_path.empty()) {
    outputs.emplace_back(paths.stderr_path, streams.err);
  }
  outputs_left_ = static_cast<int>(outputs.size());
  for (auto& [path, fd] : outputs) {
    threads_.emplace_back([this, path, fd] { CopyOut(path, fd); });
  }
  if (!paths.stdin_path.empty() && streams.in >= 0) {
    threads_.emplace_back([this, in = streams.in] { CopyIn(stdin_path_, in); });
  }
}

IoCopier::~IoCopier() {
  Cancel();
  for (auto& t : threads_) t.join();
}

bool IoCopier::WaitOutput(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return outputs_left_ == 0; });
}

void IoCopier::Cancel() {
  {
    std::lock_guard lock(mu_);
    if (canceled_) return;
    canceled_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
  // The stdin thread may sit in open(2) waiting for a reader: be that reader for a moment.
  if (!stdin_path_.empty()) {
    UniqueFd reader(::open(stdin_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));  // closed at once
  }
}

void IoCopier::CopyOut(const std::string& path, int dst) {
  BlockSigpipe();
  // Non-blocking, so the open does not wait for the writer; poll reports no hang-up until a
  // writer has come and gone.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    log::Warn("open output fifo", {{"path", path}, {"error", std::strerror(errno)}});
  } else {
    char buf[32 * 1024];
    while (true) {
      pollfd fds[2] = {{fd.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) break;
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;  // EOF: every writer closed
      if (dst >= 0 && !WriteAll(dst, buf, static_cast<size_t>(n), stop_fd_.get())) {
        dst = -1;  // our own output is gone: keep draining the fifo
      }
    }
  }
  std::lock_guard lock(mu_);
  --outputs_left_;
  cv_.notify_all();
}

void IoCopier::CopyIn(const std::string& path, int src) {
  BlockSigpipe();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // waits for the process side
  {
    std::lock_guard lock(mu_);
    if (canceled_) return;
  }
  if (!fd) {
    log::Warn("open stdin fifo", {{"path", path}, {"error", std::strerror(errno)}});
    return;
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
  char buf[32 * 1024];
  bool eof = false;
  while (true) {
    pollfd fds[2] = {{src, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    ssize_t n = ::read(src, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      eof = true;
      break;
    }
    if (!WriteAll(fd.get(), buf, static_cast<size_t>(n), stop_fd_.get())) break;
  }
  fd.Reset();  // EOF for the process before CloseIO
  if (eof && on_stdin_eof_) on_stdin_eof_();
}

}  // namespace berth::client
