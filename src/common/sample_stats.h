// Summary statistics of a sample of durations, as go-metrics (the seed's metrics library)
// reports a timer: count, min, max, mean, population standard deviation and the 50/75/95/99/
// 99.9th percentiles, each interpolated linearly between the closest ranks.
// Used by the telemetry timer (over its last 1028 samples) and by `berth bench` (over all).
#pragma once

#include <cstdint>
#include <vector>

namespace berth {

struct SampleStats {
  uint64_t count = 0;
  int64_t min = 0, max = 0;  // 0 when empty
  double mean = 0, stddev = 0;
  double p50 = 0, p75 = 0, p95 = 0, p99 = 0, p999 = 0;
};

// Of `values` in any order (taken by value: sorted here).
SampleStats Summarize(std::vector<int64_t> values);

// go-metrics' percentile `p` (0..1) of an ascending `sorted` sample: position p·(n+1), the
// first value below rank 1, the last at or above rank n, interpolated between.
double Percentile(const std::vector<int64_t>& sorted, double p);

}  // namespace berth
