// The Prometheus text exposition format as `berth metrics` reads it: samples grouped by
// family, histograms summarised (count, mean and quantiles estimated from the buckets as
// Prometheus' histogram_quantile does), rendered as the two tables of the seed's dump.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::cli {

struct MetricSample {
  std::string name;    // as exposed, with a histogram's _bucket/_sum/_count suffix
  std::string labels;  // `k="v",...` as exposed, without le for buckets
  std::string le;      // a bucket's upper bound ("+Inf")
  double value = 0;
};

struct HistogramSummary {
  std::string name, labels;
  double count = 0, sum = 0;
  double p50 = 0, p95 = 0, p99 = 0;
};

struct MetricsView {
  std::vector<MetricSample> plain;           // counters, gauges, untyped
  std::vector<HistogramSummary> histograms;  // one per family and label set
};

// InvalidArgument for a line that is not a sample or a comment.
Result<MetricsView> ParseMetricsText(const std::string& text);

// VALUE table (NAME LABELS VALUE) and the histogram table (NAME LABELS COUNT MEAN P50 P95 P99;
// seconds shown as durations); `filter` keeps names containing it.
std::string RenderMetrics(const MetricsView& view, const std::string& filter);

}  // namespace berth::cli
