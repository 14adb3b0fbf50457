#include "server/grpc_acceptor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>

#include "common/logging.h"

namespace berth::server {

Result<UniqueFd> ListenUnix(const std::filesystem::path& path) {
  sockaddr_un addr{};
  if (path.string().size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("socket path {} is longer than {} bytes", path.string(), sizeof(addr.sun_path) - 1);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.string().size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoStatus(fmt::format("bind {}", path.string()), errno);
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) return ErrnoStatus(fmt::format("listen {}", path.string()), errno);
  return fd;
}

Result<std::unique_ptr<GrpcAcceptor>> GrpcAcceptor::Start(UniqueFd listener, grpc::Server* server) {
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return ErrnoStatus("eventfd", errno);
  std::unique_ptr<GrpcAcceptor> a(new GrpcAcceptor(std::move(listener), std::move(wake), server));
  a->thread_ = std::thread([p = a.get()] { p->Run(); });
  return a;
}

GrpcAcceptor::~GrpcAcceptor() { Stop(); }

void GrpcAcceptor::Stop() {
  std::lock_guard lock(stop_mu_);
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
    thread_.join();
  }
  listener_.Reset();  // from here a connect is refused, not queued unanswered
}

void GrpcAcceptor::Run() {
  bool exhausted = false;  // logged once per episode, not once per retry
  for (;;) {
    // While descriptors are short the listener stays readable (the connection waits in the
    // backlog): it is left out of the poll, and accept is tried again every 100 ms.
    pollfd fds[2] = {{exhausted ? -1 : listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, exhausted ? 100 : -1);
    if (ready < 0 && errno != EINTR) {
      log::Error("grpc accept loop: poll failed, retrying", {{"errno", errno}});
      ::usleep(100 * 1000);
      continue;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    for (;;) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        if (exhausted) log::Info("grpc accept: descriptors available again, serving");
        exhausted = false;
        grpc::AddInsecureChannelFromFd(server_, fd);  // gRPC owns it from here
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!exhausted) {
          log::Warn("grpc accept: out of file descriptors, retrying", {{"errno", errno}});
          fd_exhaustions_.fetch_add(1);
        }
        exhausted = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log::Warn("grpc accept failed", {{"errno", errno}});
      }
      break;
    }
  }
}

}  // namespace berth::server
