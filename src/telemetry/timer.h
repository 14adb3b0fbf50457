// A timer as the seed's go-metrics kept one (container-start-time): how many, min, max, mean,
// standard deviation and percentiles of the durations over a sample of the last 1028, plus a
// meter of their rate (1-, 5- and 15-minute exponentially weighted moving averages, ticked
// every 5 s, and the mean rate since the timer was made).
//
// Thread-safety: safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/sample_stats.h"

namespace berth::telemetry {

struct TimerSnapshot {
  uint64_t count = 0;   // every update since the timer was made
  SampleStats sample;   // of the last kSampleSize durations, nanoseconds (zeroes when empty)
  double rate1 = 0, rate5 = 0, rate15 = 0, rate_mean = 0;  // per second
};

class Timer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kSampleSize = 1028;  // go-metrics' reservoir size

  explicit Timer(Clock::time_point now = Clock::now()) : started_(now), last_tick_(now) {}

  void Update(std::chrono::nanoseconds d, Clock::time_point now = Clock::now());
  TimerSnapshot Snapshot(Clock::time_point now = Clock::now());

 private:
  // One EWMA of go-metrics: alpha for a 5 s tick over `minutes`.
  struct Ewma {
    double alpha;
    double rate = 0;  // per second
    bool init = false;
  };
  void TickUntil(Clock::time_point now);

  std::mutex mu_;
  Clock::time_point started_, last_tick_;
  uint64_t count_ = 0;
  uint64_t uncounted_ = 0;  // since the last tick
  std::vector<int64_t> samples_;  // ring of the last kSampleSize
  size_t next_ = 0;
  Ewma m1_{0}, m5_{0}, m15_{0};
  bool alphas_set_ = false;
};

}  // namespace berth::telemetry
