// go-metrics' sample statistics (common/sample_stats.h), as the seed's timers and `berth bench`
// report them.
#include "common/sample_stats.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(SampleStatsTest, EmptyIsAllZero) {
  const SampleStats s = Summarize({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 0);
  EXPECT_EQ(s.mean, 0);
  EXPECT_EQ(s.p999, 0);
}

TEST(SampleStatsTest, OneValueIsEveryStatistic) {
  const SampleStats s = Summarize({42});
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.min, 42);
  EXPECT_EQ(s.max, 42);
  EXPECT_DOUBLE_EQ(s.mean, 42);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_DOUBLE_EQ(s.p50, 42);
  EXPECT_DOUBLE_EQ(s.p999, 42);
}

TEST(SampleStatsTest, UnsortedInputGivesGoMetricsFigures) {
  // 1..10 shuffled. go-metrics: position p·(n+1); p50 -> 5.5 -> 5 + 0.5·(6-5) = 5.5; p75 ->
  // 8.25 -> 8.25; p95 -> 10.45 (past n) -> 10; mean 5.5; population stddev sqrt(8.25).
  const SampleStats s = Summarize({7, 3, 10, 1, 9, 2, 8, 5, 4, 6});
  EXPECT_EQ(s.count, 10u);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_NEAR(s.stddev, 2.8722813232690143, 1e-12);
  EXPECT_DOUBLE_EQ(s.p50, 5.5);
  EXPECT_DOUBLE_EQ(s.p75, 8.25);
  EXPECT_DOUBLE_EQ(s.p95, 10);
  EXPECT_DOUBLE_EQ(s.p99, 10);
  EXPECT_DOUBLE_EQ(s.p999, 10);
}

TEST(SampleStatsTest, PercentileBelowTheFirstRankIsTheMinimum) {
  const std::vector<int64_t> sorted = {10, 20, 30};
  EXPECT_DOUBLE_EQ(Percentile(sorted, 0.1), 10);   // position 0.4
  EXPECT_DOUBLE_EQ(Percentile(sorted, 0.5), 20);   // position 2
  EXPECT_DOUBLE_EQ(Percentile(sorted, 0.625), 25); // position 2.5
  EXPECT_DOUBLE_EQ(Percentile({}, 0.5), 0);
}

}  // namespace
}  // namespace berth
