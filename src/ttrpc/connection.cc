#include "ttrpc/connection.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"

namespace berth::ttrpc {

namespace {
// One read per readiness event: level-triggered epoll comes back for the rest, so one busy
// connection cannot starve the others.
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

std::shared_ptr<Connection> Connection::Create(EventLoop& loop, UniqueFd fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  return std::shared_ptr<Connection>(new Connection(loop, std::move(fd)));
}

// Only reached while still open when the loop itself went away first: fd_ closes then.
Connection::~Connection() = default;

Status Connection::Start(Handlers handlers) {
  if (closed_) return Status(Errc::kUnavailable, "ttrpc: connection closed");
  handlers_ = std::move(handlers);
  BERTH_RETURN_IF_ERROR(loop_.Add(fd_.get(), EPOLLIN, [self = shared_from_this()](uint32_t ev) { self->OnEvents(ev); }));
  started_ = true;
  // Frames queued before Start go out now.
  if (!out_.empty()) {
    if (Flush()) UpdateInterest();
  }
  return Status::Ok();
}

void Connection::Close() {
  if (closed_) return;
  auto self = shared_from_this();  // the loop's registration may hold the last reference
  closed_ = true;
  if (started_) loop_.Remove(fd_.get());
  fd_.Reset();
  out_.clear();
  in_.clear();
  // Handlers may hold what owns this connection: release them once they have run.
  Handlers handlers = std::move(handlers_);
  handlers_ = {};
  if (handlers.on_close) handlers.on_close();
}

void Connection::Send(uint32_t stream_id, MessageType type, std::string_view body) {
  if (closed_) return;
  std::string frame(kHeaderLength + body.size(), '\0');
  EncodeHeader(FrameHeader{.length = static_cast<uint32_t>(body.size()),
                           .stream_id = stream_id,
                           .type = static_cast<uint8_t>(type),
                           .flags = 0},
               reinterpret_cast<uint8_t*>(frame.data()));
  std::memcpy(frame.data() + kHeaderLength, body.data(), body.size());
  out_.push_back(std::move(frame));
  if (!started_) return;
  if (out_.size() == 1 && !Flush()) return;
  UpdateInterest();
}

bool Connection::Flush() {
  while (!out_.empty()) {
    const std::string& front = out_.front();
    ssize_t n = ::send(fd_.get(), front.data() + out_off_, front.size() - out_off_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      log::Debug("ttrpc: write failed", {{"error", std::strerror(errno)}});
      Close();
      return false;
    }
    out_off_ += static_cast<size_t>(n);
    if (out_off_ == front.size()) {
      out_.pop_front();
      out_off_ = 0;
    }
  }
  return true;
}

void Connection::UpdateInterest() {
  bool want = !out_.empty();
  if (want == want_write_ || closed_) return;
  want_write_ = want;
  Status st = loop_.Modify(fd_.get(), want ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
  if (!st.ok()) {
    log::Warn("ttrpc: cannot update socket interest", {{"error", st.ToString()}});
    Close();
  }
}

void Connection::OnEvents(uint32_t events) {
  auto self = shared_from_this();
  if (events & EPOLLOUT) {
    if (!Flush()) return;
    UpdateInterest();
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    // On HUP/ERR the read reports EOF or the error, after any data still buffered.
    if (!ReadSome()) return;
    ParseFrames();
  }
}

bool Connection::ReadSome() {
  // Compact what earlier rounds consumed before growing the buffer.
  if (in_off_ > 0 && (in_off_ == in_.size() || in_off_ > in_.size() / 2)) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
  size_t old = in_.size();
  in_.resize(old + kReadChunk);
  ssize_t n;
  do {
    n = ::recv(fd_.get(), in_.data() + old, kReadChunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    in_.resize(old);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno != ECONNRESET) log::Debug("ttrpc: read failed", {{"error", std::strerror(errno)}});
    Close();
    return false;
  }
  in_.resize(old + static_cast<size_t>(n));
  if (n == 0) {
    Close();
    return false;
  }
  return true;
}

void Connection::ParseFrames() {
  auto self = shared_from_this();
  while (!closed_) {
    size_t avail = in_.size() - in_off_;
    if (discard_ > 0) {
      size_t skip = avail < discard_ ? avail : static_cast<size_t>(discard_);
      in_off_ += skip;
      discard_ -= skip;
      if (discard_ > 0) return;
      continue;
    }
    if (avail < kHeaderLength) return;
    FrameHeader h = DecodeHeader(reinterpret_cast<const uint8_t*>(in_.data() + in_off_));
    if (h.length > kMaxMessageLength) {
      // As ttrpc's channel does: skip the body and report the frame, the stream goes on.
      in_off_ += kHeaderLength;
      discard_ = h.length;
      if (handlers_.on_oversized) handlers_.on_oversized(h);
      continue;
    }
    if (avail < kHeaderLength + h.length) return;
    std::string body = in_.substr(in_off_ + kHeaderLength, h.length);
    in_off_ += kHeaderLength + h.length;
    if (handlers_.on_frame) handlers_.on_frame(h, std::move(body));
  }
}

}  // namespace berth::ttrpc
