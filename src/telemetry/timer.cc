#include "telemetry/timer.h"

#include <cmath>

namespace berth::telemetry {

namespace {

constexpr auto kTick = std::chrono::seconds(5);

double Alpha(double minutes) { return 1 - std::exp(-5.0 / 60.0 / minutes); }

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
  s.sample = Summarize(samples_);
  return s;
}

}  // namespace berth::telemetry
