#include "common/sample_stats.h"

#include <algorithm>
#include <cmath>

namespace berth {

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double pos = p * static_cast<double>(sorted.size() + 1);
  if (pos < 1) return static_cast<double>(sorted.front());
  if (pos >= static_cast<double>(sorted.size())) return static_cast<double>(sorted.back());
  const double lower = static_cast<double>(sorted[static_cast<size_t>(pos) - 1]);
  const double upper = static_cast<double>(sorted[static_cast<size_t>(pos)]);
  return lower + (pos - std::floor(pos)) * (upper - lower);
}

SampleStats Summarize(std::vector<int64_t> values) {
  SampleStats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.count = values.size();
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  s.mean = sum / static_cast<double>(values.size());
  double var = 0;
  for (int64_t v : values) var += (static_cast<double>(v) - s.mean) * (static_cast<double>(v) - s.mean);
  s.stddev = std::sqrt(var / static_cast<double>(values.size()));
  s.p50 = Percentile(values, 0.5);
  s.p75 = Percentile(values, 0.75);
  s.p95 = Percentile(values, 0.95);
  s.p99 = Percentile(values, 0.99);
  s.p999 = Percentile(values, 0.999);
  return s;
}

}  // namespace berth
