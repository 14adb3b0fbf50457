#include "runtime/shim_log.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/logging.h"

namespace berth::runtime {

Result<std::shared_ptr<ShimLog>> ShimLog::Open(ttrpc::EventLoop& loop, const Bundle& bundle) {
  auto fifo = std::make_shared<Fifo>();
  fifo->read.Reset(::open(bundle.log_fifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo->read) return ErrnoStatus(fmt::format("open {}", bundle.log_fifo().string()), errno);
  fifo->write.Reset(::open(bundle.log_fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo->write) return ErrnoStatus(fmt::format("open {} for writing", bundle.log_fifo().string()), errno);
  std::shared_ptr<ShimLog> log(new ShimLog(loop, bundle.ns, bundle.id, std::move(fifo)));
  std::weak_ptr<ShimLog> weak = log;
  loop.Post([weak] {
    auto self = weak.lock();
    if (!self || !self->fifo_->read) return;
    Status s = self->loop_.Add(self->fifo_->read.get(), EPOLLIN, [weak](uint32_t) {
      if (auto me = weak.lock()) me->OnReadable();
    });
    if (!s.ok()) log::Warn("cannot follow shim log", {{"namespace", self->ns_}, {"id", self->id_}, {"error", s.ToString()}});
  });
  return log;
}

void ShimLog::OnReadable() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fifo_->read.get(), buf, sizeof buf);
    if (n <= 0) break;
    partial_.append(buf, static_cast<size_t>(n));
    if (n < static_cast<ssize_t>(sizeof buf)) break;
  }
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(partial_.data() + start, nl - start);
    if (!line.empty()) log::Info("shim", {{"namespace", ns_}, {"id", id_}, {"log", line}});
  }
  partial_.erase(0, start);
  if (partial_.size() > 16384) partial_.clear();  // a line without end: drop it
}

void ShimLog::Close() {
  // The fds are closed on the loop thread, where they are registered (and read).
  if (closed_.exchange(true)) return;
  loop_.Post([loop = &loop_, fifo = fifo_] {
    loop->Remove(fifo->read.get());
    fifo->read.Reset();
    fifo->write.Reset();
  });
}

ShimLog::~ShimLog() { Close(); }

}  // namespace berth::runtime
