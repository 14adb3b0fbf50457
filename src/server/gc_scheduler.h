// Runs garbage collection: on demand (synchronously) or, after deletions, in the background
// once things have been quiet for a short delay, so a burst of deletions costs one collection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "metadata/gc.h"
#include "services/gc_hook.h"

namespace berth::server {

// Thread-safe: CollectNow and Schedule may be called from any thread (collections run one at a
// time); SetObserver only before collections run.
class GcScheduler final : public services::GarbageCollector {
 public:
  explicit GcScheduler(metadata::GarbageCollection& gc,
                       std::chrono::milliseconds delay = std::chrono::milliseconds(100));
  ~GcScheduler() override;  // stops the thread; a scheduled collection still pending is run
  GcScheduler(const GcScheduler&) = delete;
  GcScheduler& operator=(const GcScheduler&) = delete;

  Status CollectNow() override;
  void Schedule() override;

  // Told how long each collection took (telemetry); set once, before collections run.
  void SetObserver(std::function<void(std::chrono::nanoseconds)> observer) { observer_ = std::move(observer); }

 private:
  void Loop();
  Result<metadata::GcStats> Run();
  std::function<void(std::chrono::nanoseconds)> observer_;

  metadata::GarbageCollection& gc_;
  std::chrono::milliseconds delay_;
  std::mutex run_mu_;  // one collection at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point due_;
  std::thread thread_;
};

}  // namespace berth::server
