// Signals for tasks: names as ctr takes them (`-s SIGKILL`, `KILL`, `9`), and forwarding the
// signals berth receives to a running task (ctr's --sig-proxy default).
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <string_view>
#include <thread>

#include "common/status.h"

namespace berth::cli {

// "SIGTERM", "TERM", "sigterm" or "15"; InvalidArgument for anything else.
Result<int> ParseSignal(std::string_view name);

// Takes the signals a shell sends a foreground job (HUP, INT, QUIT, TERM, USR1, USR2, WINCH,
// CONT, ALRM) on a thread of its own and hands each to `on_signal`. Construct it before any
// other thread starts (the gRPC client), so that they inherit the blocked mask.
// Thread-safety: on_signal runs on the forwarder's own thread, so what it touches must be safe
// from there; construction and destruction by the owner.
class SignalForwarder {
 public:
  explicit SignalForwarder(std::function<void(int)> on_signal);
  ~SignalForwarder();  // stops; the signals stay blocked
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

 private:
  sigset_t set_;
  std::function<void(int)> on_signal_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::cli
