#include "server/gc_scheduler.h"

#include "common/logging.h"

namespace berth::server {

GcScheduler::GcScheduler(metadata::GarbageCollection& gc, std::chrono::milliseconds delay)
    : gc_(gc), delay_(delay), thread_([this] { Loop(); }) {}

GcScheduler::~GcScheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status GcScheduler::CollectNow() {
  {
    // A synchronous run covers whatever was scheduled.
    std::lock_guard lock(mu_);
    pending_ = false;
  }
  auto r = Run();
  return r.ok() ? Status::Ok() : r.status();
}

Result<metadata::GcStats> GcScheduler::Run() {
  std::lock_guard run(run_mu_);
  auto began = std::chrono::steady_clock::now();
  auto r = gc_.Collect(Clock::now());
  if (observer_) observer_(std::chrono::steady_clock::now() - began);
  return r;
}

void GcScheduler::Schedule() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
    due_ = std::chrono::steady_clock::now() + delay_;  // debounce: restart the delay
  }
  cv_.notify_all();
}

void GcScheduler::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return pending_ || stopping_; });
    if (!stopping_) {
      // Wait until quiet for `delay_`; a new Schedule() moves due_ later.
      while (pending_ && !stopping_ && std::chrono::steady_clock::now() < due_) {
        cv_.wait_until(lock, due_);
      }
    }
    if (pending_) {
      pending_ = false;
      lock.unlock();
      auto r = Run();
      if (!r.ok()) log::Error("background garbage collection failed", {{"error", r.status().ToString()}});
      lock.lock();
    }
    if (stopping_) return;
  }
}

}  // namespace berth::server
