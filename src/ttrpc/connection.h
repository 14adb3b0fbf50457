// Internal to src/ttrpc: one non-blocking unix socket on an EventLoop, framed as ttrpc
// messages. Reads into a buffer and hands out whole frames; writes go out at once when the
// socket takes them, and the rest is queued and flushed on EPOLLOUT. Shared by the server (one
// per accepted socket) and the client. Every method is for the loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/wire.h"

namespace berth::ttrpc {

// Not thread-safe: loop thread only (other threads reach it through EventLoop::Post).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Handlers {
    // A whole frame (header.length <= kMaxMessageLength).
    std::function<void(const FrameHeader& header, std::string body)> on_frame;
    // A frame longer than kMaxMessageLength: its body is skipped, the connection goes on.
    std::function<void(const FrameHeader& header)> on_oversized;
    // Once, when the connection closes (by the peer, an error, or Close()).
    std::function<void()> on_close;
  };

  // Takes the socket (made non-blocking here).
  static std::shared_ptr<Connection> Create(EventLoop& loop, UniqueFd fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts watching the socket. While open, the loop's registration keeps this object alive.
  Status Start(Handlers handlers);
  // Queues one frame. A no-op once closed.
  void Send(uint32_t stream_id, MessageType type, std::string_view body);
  // Idempotent; runs on_close (the first time) after the fd is closed.
  void Close();

  bool closed() const { return closed_; }
  EventLoop& loop() { return loop_; }

 private:
  Connection(EventLoop& loop, UniqueFd fd) : loop_(loop), fd_(std::move(fd)) {}
  void OnEvents(uint32_t events);
  // False when the connection was closed while reading.
  bool ReadSome();
  void ParseFrames();
  // Writes what the socket takes; false when the connection was closed on an error.
  bool Flush();
  void UpdateInterest();

  EventLoop& loop_;
  UniqueFd fd_;
  bool started_ = false;
  bool closed_ = false;
  bool want_write_ = false;
  Handlers handlers_;

  std::string in_;            // received bytes not yet parsed, from in_off_
  size_t in_off_ = 0;
  uint64_t discard_ = 0;      // bytes of an oversized frame still to skip
  std::deque<std::string> out_;  // queued frames; the first one from out_off_
  size_t out_off_ = 0;
};

}  // namespace berth::ttrpc
