#include "berth/signals.h"

#include <pthread.h>

#include <cstdlib>
#include <ctime>

namespace berth::cli {

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this] { Watch(); });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  thread_.join();
}

void SignalWatcher::Watch() {
  // Polls so that the destructor can stop it without sending itself a signal.
  const timespec tick{0, 100'000'000};
  while (!stop_) {
    int sig = sigtimedwait(&set_, nullptr, &tick);
    if (sig <= 0) continue;
    // A second signal means the clean stop is stuck: leave at once, as a shell expects.
    if (received_ != 0) std::_Exit(128 + sig);
    received_ = sig;
    on_signal_(sig);
  }
}

}  // namespace berth::cli
