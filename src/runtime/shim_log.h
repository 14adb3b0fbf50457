// Copies what a shim writes to its bundle's `log` fifo into berthd's log, line by line, with
// the task's namespace and id. Runs on the runtime's event loop; holds a writer end of the fifo
// itself so that a shim that has not opened it yet (or closed it) never makes it spin on EOF.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "runtime/bundle.h"
#include "ttrpc/event_loop.h"

namespace berth::runtime {

// Thread-safe: Open and Close from any thread; the copying itself, and everything done to the
// fifo's descriptors after Open, runs on the loop thread only.
class ShimLog {
 public:
  // Any thread; registers on `loop`.
  static Result<std::shared_ptr<ShimLog>> Open(ttrpc::EventLoop& loop, const Bundle& bundle);
  ~ShimLog();
  // Any thread: stops copying and closes the fifo ends (on the loop thread).
  void Close();

 private:
  // The fifo's two ends; shared with the loop task that closes them, so that they are closed
  // (on the loop thread) even when this object is gone by then.
  struct Fifo {
    UniqueFd read, write;
  };
  ShimLog(ttrpc::EventLoop& loop, std::string ns, std::string id, std::shared_ptr<Fifo> fifo)
      : loop_(loop), ns_(std::move(ns)), id_(std::move(id)), fifo_(std::move(fifo)) {}
  void OnReadable();

  ttrpc::EventLoop& loop_;
  const std::string ns_, id_;
  const std::shared_ptr<Fifo> fifo_;
  std::atomic<bool> closed_{false};
  std::string partial_;  // loop thread only
};

}  // namespace berth::runtime
