#include "telemetry/timer.h"

#include <gtest/gtest.h>

#include "telemetry/telemetry.h"

namespace berth::telemetry {
namespace {

using namespace std::chrono_literals;

TEST(TimerTest, StatisticsOfTheSample) {
  auto t0 = Timer::Clock::now();
  Timer t(t0);
  for (int i = 1; i <= 100; ++i) t.Update(std::chrono::milliseconds(i), t0);
  TimerSnapshot s = t.Snapshot(t0 + 5s);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.sample.min, 1'000'000);
  EXPECT_EQ(s.sample.max, 100'000'000);
  EXPECT_DOUBLE_EQ(s.sample.mean, 50.5e6);
  EXPECT_NEAR(s.sample.stddev, 28.866e6, 0.01e6);
  EXPECT_NEAR(s.sample.p50, 50.5e6, 1);
  EXPECT_NEAR(s.sample.p95, 95.95e6, 1);
  EXPECT_DOUBLE_EQ(s.sample.p999, 100e6);
  EXPECT_NEAR(s.rate_mean, 20.0, 1e-9);  // 100 in 5 s
  // 100 events in the first 5 s tick: 20/s instant, the first tick sets every average to it.
  EXPECT_NEAR(s.rate1, 20.0, 1e-9);
  EXPECT_NEAR(s.rate15, 20.0, 1e-9);
}

TEST(TimerTest, RatesDecayWhileIdleAndTheSampleKeepsTheLatest) {
  auto t0 = Timer::Clock::now();
  Timer t(t0);
  for (int i = 0; i < 2000; ++i) t.Update(std::chrono::nanoseconds(i), t0);
  TimerSnapshot s = t.Snapshot(t0 + 5s);
  EXPECT_EQ(s.count, 2000u);
  EXPECT_EQ(s.sample.min, 2000 - static_cast<int64_t>(Timer::kSampleSize));  // only the last 1028 kept
  double first = s.rate1;
  TimerSnapshot later = t.Snapshot(t0 + 65s);
  EXPECT_LT(later.rate1, first * 0.5);   // a minute of silence: the 1-min rate fell by ~1/e
  EXPECT_GT(later.rate15, later.rate1);  // the 15-min one less
  EXPECT_EQ(t.Snapshot(t0 + 3h).rate15, 0);
}

TEST(TimerTest, AnEmptyTimerIsAllZero) {
  Timer t;
  TimerSnapshot s = t.Snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sample.min, 0);
  EXPECT_EQ(s.sample.p99, 0);
}

TEST(TimerDumpTest, TheSeedsLayout) {
  Telemetry t;
  t.SetDumpSources({.containers = [] { return uint64_t{1}; },
                    .events = [] { return uint64_t{87}; },
                    .event_subscribers = [] { return uint64_t{2}; }});
  t.ObserveStart("default", 25425883ns);
  t.ObserveStart("default", 113077691ns);
  auto lines = t.SeedDump();
  ASSERT_GE(lines.size(), 25u);
  EXPECT_EQ(lines[0], "timer container-start-time");
  EXPECT_EQ(lines[1], "  count:               2");
  EXPECT_EQ(lines[2], "  min:          25425883");
  EXPECT_EQ(lines[3], "  max:         113077691");
  EXPECT_EQ(lines[4], "  mean:         69251787.00");
  EXPECT_EQ(lines[11].substr(0, 15), "  1-min rate:  ");
  EXPECT_EQ(lines[15], "counter containers");
  EXPECT_EQ(lines[16], "  count:               1");
  EXPECT_EQ(lines[17], "counter events");
  EXPECT_EQ(lines[18], "  count:              87");
  EXPECT_EQ(lines[19], "counter events-subscribers");
  EXPECT_EQ(lines[21], "gauge threads");
  EXPECT_EQ(lines[23], "gauge fds");
  EXPECT_GT(std::stoi(lines[24].substr(15)), 0);
}

}  // namespace
}  // namespace berth::telemetry
