// berth metrics: the Prometheus text read back and summarised.
#include "berth/metrics_text.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

constexpr const char* kText = R"(# HELP berth_container_start_duration_seconds Time
# TYPE berth_container_start_duration_seconds histogram
berth_container_start_duration_seconds_count{namespace="default"} 4
berth_container_start_duration_seconds_sum{namespace="default"} 0.4
berth_container_start_duration_seconds_bucket{namespace="default",le="0.05"} 1
berth_container_start_duration_seconds_bucket{namespace="default",le="0.1"} 2
berth_container_start_duration_seconds_bucket{namespace="default",le="0.25"} 4
berth_container_start_duration_seconds_bucket{namespace="default",le="+Inf"} 4
# TYPE berth_tasks gauge
berth_tasks{namespace="default"} 3
# TYPE process_open_fds gauge
process_open_fds 17
)";

TEST(MetricsTextTest, SamplesAndHistograms) {
  auto view = ParseMetricsText(kText);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->plain.size(), 2u);
  EXPECT_EQ(view->plain[0].name, "berth_tasks");
  EXPECT_EQ(view->plain[0].labels, "namespace=\"default\"");
  EXPECT_EQ(view->plain[0].value, 3);
  EXPECT_EQ(view->plain[1].value, 17);
  ASSERT_EQ(view->histograms.size(), 1u);
  const auto& h = view->histograms[0];
  EXPECT_EQ(h.count, 4);
  EXPECT_DOUBLE_EQ(h.sum, 0.4);
  EXPECT_DOUBLE_EQ(h.p50, 0.1);  // rank 2 ends the 0.1 bucket
  EXPECT_NEAR(h.p95, 0.05 * 0 + 0.1 + 0.15 * (3.8 - 2) / 2, 1e-9);
  std::string table = RenderMetrics(*view, "");
  EXPECT_NE(table.find("berth_tasks"), std::string::npos);
  EXPECT_NE(table.find("100.0ms"), std::string::npos) << table;  // the mean
  EXPECT_EQ(RenderMetrics(*view, "fds").find("berth_tasks"), std::string::npos);
}

TEST(MetricsTextTest, GarbageIsAnError) {
  EXPECT_FALSE(ParseMetricsText("this is not { a sample\n").ok());
  EXPECT_FALSE(ParseMetricsText("name notanumber\n").ok());
}

}  // namespace
}  // namespace berth::cli
