// Turns SIGINT/SIGTERM into a call on a normal thread, where gRPC may be used (a signal
// handler may not cancel a call).
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace berth::cli {

// Thread-safe: received() may be read from any thread; construction and destruction by the owner.
class SignalWatcher {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread, and in the threads it starts from now on,
  // so construct it before the client. `on_signal` runs on the watcher's
  // thread for the first signal; a second one exits the process.
  explicit SignalWatcher(std::function<void(int)> on_signal);
  // Stops watching; the signals stay blocked.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // The signal received, or 0.
  int received() const { return received_.load(); }

 private:
  void Watch();

  sigset_t set_;
  std::function<void(int)> on_signal_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

}  // namespace berth::cli
