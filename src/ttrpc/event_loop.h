// A single-threaded epoll event loop: fd readiness callbacks, timers, and Post() for work
// handed over from other threads (eventfd wake-up). berth-shim runs its whole life on one;
// berthd runs one in a background thread for its ttrpc connections.
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>

#include "common/status.h"

namespace berth::ttrpc {

// Thread-safety: Post, Stop and InLoopThread may be called from any thread; every other method
// belongs to the loop thread, as marked below.
class EventLoop {
 public:
  // `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR).
  using FdCallback = std::function<void(uint32_t events)>;
  using TimerId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only. The loop does not own `fd`; Remove() it before closing it. Removing (or
  // re-adding) an fd from inside any callback is safe.
  Status Add(int fd, uint32_t events, FdCallback cb);
  Status Modify(int fd, uint32_t events);
  void Remove(int fd);

  // Loop thread only: runs `fn` once after `delay`. Cancel of a fired or unknown id is a no-op.
  TimerId AddTimer(std::chrono::milliseconds delay, std::function<void()> fn);
  void CancelTimer(TimerId id);

  // Any thread: runs `fn` on the loop thread soon. Thread-safe.
  void Post(std::function<void()> fn);

  // Runs until Stop(); returns an error only if epoll itself fails.
  Status Run();
  // One round: waits up to `timeout` (negative: forever) and dispatches what is ready.
  Status RunOnce(std::chrono::milliseconds timeout);
  // Any thread: makes Run() return after the current round.
  void Stop();
  // True on the thread currently inside Run()/RunOnce().
  bool InLoopThread() const;

 private:
  struct Impl;
  explicit EventLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::ttrpc
