// Shared by the ttrpc fuzz targets (ttrpc_server, shim_ttrpc): the peer end of one connection to
// a ttrpc::Server, as a shim or berthd would hold it. The server is served on a unix socket bound
// in the abstract namespace (autobind: no file anywhere) and its EventLoop is driven by this
// thread one non-blocking round at a time, so there is no thread and no wait: a server that stops
// reading or answering shows as a bounded number of rounds without progress, not a hang.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "fuzz_check.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"
#include "ttrpc/wire.h"

namespace berth::fuzz {

// One frame as read off the socket.
struct Frame {
  ttrpc::FrameHeader header;
  std::string body;
};

// Serves `server` on a fresh listener in the abstract namespace and returns a connected,
// non-blocking client socket (the server accepts it on its next loop round).
inline UniqueFd ServeAndDial(ttrpc::Server& server) {
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  FUZZ_CHECK(listener.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // An address of just the family: the kernel binds a unique abstract name (unix(7) autobind).
  FUZZ_CHECK(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(sa_family_t)) == 0);
  FUZZ_CHECK(::listen(listener.get(), 4) == 0);
  socklen_t len = sizeof addr;
  FUZZ_CHECK(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  FUZZ_CHECK(server.Serve(std::move(listener)).ok());
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  FUZZ_CHECK(client.valid());
  FUZZ_CHECK(::connect(client.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0);
  return client;
}

// The client side: bytes queued with Write go out as the socket takes them; what the server
// sends back is split into frames. Every round runs the server's loop once without waiting.
class Peer {
 public:
  Peer(ttrpc::EventLoop& loop, UniqueFd fd) : loop_(loop), fd_(std::move(fd)) {}

  void Write(std::string_view bytes) { out_.append(bytes); }

  // One round: the server's loop, then our writes and reads.
  void Round() {
    FUZZ_CHECK(loop_.RunOnce(std::chrono::milliseconds(0)).ok());
    Flush();
    Read();
  }

  // Rounds until `done()`; false when it still does not hold after `max_rounds`.
  template <typename Done>
  bool RunUntil(Done done, int max_rounds) {
    for (int i = 0; i < max_rounds; ++i) {
      if (done()) return true;
      Round();
    }
    return done();
  }

  // Half-close, as a peer that has said everything: the server reads EOF after the rest.
  void CloseWrite() { FUZZ_CHECK(::shutdown(fd_.get(), SHUT_WR) == 0); }

  bool written() const { return out_off_ == out_.size(); }
  bool eof() const { return eof_; }
  // Frames received so far; the caller may take them.
  std::vector<Frame>& frames() { return frames_; }
  // Bytes after the last whole frame (a server sends whole frames only: empty at EOF).
  size_t partial() const { return in_.size(); }

 private:
  void Flush() {
    while (out_off_ < out_.size()) {
      ssize_t n = ::send(fd_.get(), out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        // EAGAIN: the server has not read enough yet. Anything else: it closed on us, which
        // it may (e.g. after a write error); the checks on what came back decide.
        if (errno != EAGAIN && errno != EWOULDBLOCK) out_off_ = out_.size();
        return;
      }
      out_off_ += static_cast<size_t>(n);
    }
  }

  void Read() {
    char buf[16384];
    while (!eof_) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) eof_ = true;  // reset by the server
        break;
      }
      if (n == 0) {
        eof_ = true;
        break;
      }
      in_.append(buf, static_cast<size_t>(n));
    }
    size_t off = 0;
    while (in_.size() - off >= ttrpc::kHeaderLength) {
      ttrpc::FrameHeader h = ttrpc::DecodeHeader(reinterpret_cast<const uint8_t*>(in_.data() + off));
      if (in_.size() - off - ttrpc::kHeaderLength < h.length) break;
      frames_.push_back(Frame{h, in_.substr(off + ttrpc::kHeaderLength, h.length)});
      off += ttrpc::kHeaderLength + h.length;
    }
    in_.erase(0, off);
  }

  ttrpc::EventLoop& loop_;
  UniqueFd fd_;
  std::string out_;
  size_t out_off_ = 0;
  std::string in_;
  bool eof_ = false;
  std::vector<Frame> frames_;
};

// A request frame as a ttrpc client sends it.
inline std::string RequestFrame(uint32_t stream_id, const ttrpc::Request& request) {
  std::string body = ttrpc::EncodeRequest(request);
  std::string frame(ttrpc::kHeaderLength, '\0');
  ttrpc::EncodeHeader(ttrpc::FrameHeader{.length = static_cast<uint32_t>(body.size()),
                                         .stream_id = stream_id,
                                         .type = static_cast<uint8_t>(ttrpc::MessageType::kRequest),
                                         .flags = 0},
                      reinterpret_cast<uint8_t*>(frame.data()));
  return frame + body;
}

}  // namespace berth::fuzz
