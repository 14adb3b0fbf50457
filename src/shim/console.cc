#include "shim/console.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/logging.h"
#include "shim/process_io.h"

namespace berth::shim {

Result<std::unique_ptr<ConsoleSocket>> ConsoleSocket::Create() {
  std::unique_ptr<ConsoleSocket> s(new ConsoleSocket());
  char tmpl[] = "/tmp/berth-pty-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoStatus("mkdtemp", errno);
  s->dir_ = tmpl;
  s->path_ = s->dir_ + "/pty.sock";
  s->listen_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s->listen_) return ErrnoStatus("socket", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s->path_.c_str(), s->path_.size());
  const int fd = s->listen_.get();
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 1) != 0) {
    return ErrnoStatus("console socket " + s->path_, errno);
  }
  return s;
}

ConsoleSocket::~ConsoleSocket() {
  listen_.Reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

Result<UniqueFd> ConsoleSocket::ReceiveMaster(std::chrono::milliseconds timeout) {
  pollfd p{listen_.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return Unknown("console socket {}: the runtime sent no terminal", path_);
  }
  UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return ErrnoStatus("accept console socket", errno);
  char name[4096];
  iovec iov{name, sizeof(name)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("receive console master", errno);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      return UniqueFd(fd);
    }
  }
  return Unknown("console socket {}: no fd received", path_);
}

Pump::Pump(ttrpc::EventLoop& loop, UniqueFd src, UniqueFd dst, std::function<void()> on_eof)
    : loop_(loop), src_(std::move(src)), dst_(std::move(dst)), on_eof_(std::move(on_eof)) {}

Pump::~Pump() { Stop(); }

Status Pump::Start() {
  ::fcntl(src_.get(), F_SETFL, ::fcntl(src_.get(), F_GETFL) | O_NONBLOCK);
  ::fcntl(dst_.get(), F_SETFL, ::fcntl(dst_.get(), F_GETFL) | O_NONBLOCK);
  BERTH_RETURN_IF_ERROR(loop_.Add(src_.get(), EPOLLIN, [this](uint32_t) { OnReadable(); }));
  src_added_ = true;
  return Status::Ok();
}

void Pump::Stop() {
  if (src_added_) loop_.Remove(src_.get());
  if (dst_added_) loop_.Remove(dst_.get());
  src_added_ = dst_added_ = false;
  stopped_ = true;
}

void Pump::OnReadable() {
  char tmp[8192];
  while (buf_.size() < kBuffer) {
    ssize_t n = ::read(src_.get(), tmp, std::min(sizeof(tmp), kBuffer - buf_.size()));
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EOF, or EIO from a master whose terminal side is closed.
    Flush();
    if (src_added_) loop_.Remove(src_.get());
    src_added_ = false;
    reading_ = false;
    if (on_eof_) {
      auto cb = std::move(on_eof_);
      cb();
    }
    return;
  }
  Flush();
}

void Pump::Flush() {
  while (!buf_.empty()) {
    ssize_t n = ::write(dst_.get(), buf_.data(), buf_.size());
    if (n > 0) {
      buf_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    buf_.clear();  // the reader went away: drop
  }
  Update();
}

void Pump::Update() {
  if (stopped_) return;
  bool want_out = !buf_.empty();
  if (want_out && !dst_added_) {
    dst_added_ = loop_.Add(dst_.get(), EPOLLOUT, [this](uint32_t) { Flush(); }).ok();
  } else if (!want_out && dst_added_) {
    loop_.Remove(dst_.get());
    dst_added_ = false;
  }
  if (src_added_) {
    loop_.Modify(src_.get(), buf_.size() < kBuffer ? static_cast<uint32_t>(EPOLLIN) : 0u).IgnoreError();
  }
}

void Pump::Drain() {
  if (!reading_) {
    Flush();
    return;
  }
  char tmp[8192];
  for (int rounds = 0; rounds < 256; ++rounds) {
    ssize_t n = ::read(src_.get(), tmp, sizeof(tmp));
    if (n <= 0) break;
    buf_.append(tmp, static_cast<size_t>(n));
    // Give a slow reader a little time rather than dropping the last output.
    while (!buf_.empty()) {
      ssize_t w = ::write(dst_.get(), buf_.data(), buf_.size());
      if (w > 0) {
        buf_.erase(0, static_cast<size_t>(w));
      } else if (w < 0 && errno == EAGAIN) {
        pollfd p{dst_.get(), POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) {
          buf_.clear();
        }
      } else {
        buf_.clear();
      }
    }
  }
  Flush();
}

Result<std::unique_ptr<Console>> Console::Start(ttrpc::EventLoop& loop, UniqueFd master,
                                                const std::string& stdin_path,
                                                const std::string& stdout_path) {
  std::unique_ptr<Console> c(new Console(loop));
  c->master_ = std::move(master);
  if (!stdout_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd out, OpenOutput(stdout_path, &c->stdout_keep_));
    UniqueFd m(::fcntl(c->master_.get(), F_DUPFD_CLOEXEC, 3));
    c->out_ = std::make_unique<Pump>(loop, std::move(m), std::move(out), nullptr);
    BERTH_RETURN_IF_ERROR(c->out_->Start());
  }
  if (!stdin_path.empty()) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd in, OpenInput(stdin_path, &c->stdin_writer_, true));
    UniqueFd m(::fcntl(c->master_.get(), F_DUPFD_CLOEXEC, 3));
    int master_fd = c->master_.get();
    c->in_ = std::make_unique<Pump>(loop, std::move(in), std::move(m), [master_fd] {
      // The client closed stdin: the terminal's end-of-file character.
      char eot = 4;
      (void)!::write(master_fd, &eot, 1);
    });
    BERTH_RETURN_IF_ERROR(c->in_->Start());
  }
  return c;
}

Console::~Console() { Shutdown(); }

Status Console::Resize(uint32_t width, uint32_t height) {
  if (!master_) return Status::Ok();
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(width);
  ws.ws_row = static_cast<unsigned short>(height);
  if (::ioctl(master_.get(), TIOCSWINSZ, &ws) != 0) return ErrnoStatus("resize console", errno);
  return Status::Ok();
}

void Console::Shutdown() {
  if (out_) {
    out_->Drain();
    out_->Stop();
    out_.reset();
  }
  if (in_) {
    in_->Stop();
    in_.reset();
  }
  stdin_writer_.Reset();
  stdout_keep_.Reset();
  master_.Reset();
}

}  // namespace berth::shim
