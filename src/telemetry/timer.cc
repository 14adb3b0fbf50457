#include "telemetry/timer.h"

#include <algorithm>
#include <cmath>

namespace berth::telemetry {

namespace {

constexpr auto kTick = std::chrono::seconds(5);

double Alpha(double minutes) { return 1 - std::exp(-5.0 / 60.0 / minutes); }

// go-metrics' percentile: linear interpolation between the closest ranks of the sorted sample.
double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  double pos = p * static_cast<double>(sorted.size() + 1);
  if (pos < 1) return static_cast<double>(sorted.front());
  if (pos >= static_cast<double>(sorted.size())) return static_cast<double>(sorted.back());
  double lower = static_cast<double>(sorted[static_cast<size_t>(pos) - 1]);
  double upper = static_cast<double>(sorted[static_cast<size_t>(pos)]);
  return lower + (pos - std::floor(pos)) * (upper - lower);
}

}  // namespace

void Timer::TickUntil(Clock::time_point now) {
  if (!alphas_set_) {
    m1_.alpha = Alpha(1);
    m5_.alpha = Alpha(5);
    m15_.alpha = Alpha(15);
    alphas_set_ = true;
  }
  // Ticks missed while idle decay the averages as go-metrics' ticker would have; after 15
  // minutes' worth they are as good as zero, so at most that many are run.
  int ticks = 0;
  while (now - last_tick_ >= kTick && ticks < 15 * 12) {
    double instant = static_cast<double>(uncounted_) / std::chrono::duration<double>(kTick).count();
    uncounted_ = 0;
    for (Ewma* e : {&m1_, &m5_, &m15_}) {
      if (e->init) {
        e->rate += e->alpha * (instant - e->rate);
      } else {
        e->rate = instant;
        e->init = true;
      }
    }
    last_tick_ += kTick;
    ++ticks;
  }
  if (now - last_tick_ >= kTick) {  // long idle: the rest of the gap decays to nothing
    for (Ewma* e : {&m1_, &m5_, &m15_}) e->rate = 0;
    last_tick_ = now;
  }
}

void Timer::Update(std::chrono::nanoseconds d, Clock::time_point now) {
  std::lock_guard lock(mu_);
  TickUntil(now);
  ++count_;
  ++uncounted_;
  if (samples_.size() < kSampleSize) {
    samples_.push_back(d.count());
  } else {
    samples_[next_] = d.count();
    next_ = (next_ + 1) % kSampleSize;
  }
}

TimerSnapshot Timer::Snapshot(Clock::time_point now) {
  std::lock_guard lock(mu_);
  TickUntil(now);
  TimerSnapshot s;
  s.count = count_;
  s.rate1 = m1_.rate;
  s.rate5 = m5_.rate;
  s.rate15 = m15_.rate;
  double elapsed = std::chrono::duration<double>(now - started_).count();
  s.rate_mean = elapsed > 0 ? static_cast<double>(count_) / elapsed : 0;
  if (samples_.empty()) return s;
  std::vector<int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  double sum = 0;
  for (int64_t v : sorted) sum += static_cast<double>(v);
  s.mean = sum / static_cast<double>(sorted.size());
  double var = 0;
  for (int64_t v : sorted) var += (static_cast<double>(v) - s.mean) * (static_cast<double>(v) - s.mean);
  s.stddev = std::sqrt(var / static_cast<double>(sorted.size()));
  s.p50 = Percentile(sorted, 0.5);
  s.p75 = Percentile(sorted, 0.75);
  s.p95 = Percentile(sorted, 0.95);
  s.p99 = Percentile(sorted, 0.99);
  s.p999 = Percentile(sorted, 0.999);
  return s;
}

}  // namespace berth::telemetry
