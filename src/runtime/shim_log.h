// Copies what a shim writes to its bundle's `log` fifo into berthd's log, line by line, with
// the task's namespace and id. Runs on the runtime's event loop; holds a writer end of the fifo
// itself so that a shim that has not opened it yet (or closed it) never makes it spin on EOF.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/status.h"
#include "runtime/bundle.h"
#include "ttrpc/event_loop.h"

namespace berth::runtime {

class ShimLog {
 public:
  // Any thread; registers on `loop`.
  static Result<std::shared_ptr<ShimLog>> Open(ttrpc::EventLoop& loop, const Bundle& bundle);
  ~ShimLog();
  // Any thread: stops copying and closes the fifo ends (on the loop thread).
  void Close();

 private:
  ShimLog(ttrpc::EventLoop& loop, std::string ns, std::string id, int rfd, int wfd)
      : loop_(loop), ns_(std::move(ns)), id_(std::move(id)), rfd_(rfd), wfd_(wfd) {}
  void OnReadable();

  ttrpc::EventLoop& loop_;
  std::string ns_, id_;
  std::atomic<int> rfd_, wfd_;
  std::string partial_;
};

}  // namespace berth::runtime
