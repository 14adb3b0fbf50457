// The table of `berth bench` (cmd/berth/bench_report.h).
#include "berth/bench_report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace berth::cli {
namespace {

using namespace std::chrono_literals;

std::vector<std::vector<std::string>> Cells(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    rows.push_back(row);
  }
  return rows;
}

TEST(BenchReportTest, OneRowPerPhaseInMillisecondsWithTheRate) {
  BenchPhase start{"start", {1'000'000, 3'000'000, 2'000'000}, 1, 1s};
  BenchPhase teardown{"teardown", {500'000, 500'000}, 0, 250ms};
  const auto rows = Cells(RenderBenchTable({start, teardown}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"PHASE", "COUNT", "FAILED", "MIN", "MAX", "MEAN", "STDDEV", "MEDIAN",
                                               "75%", "95%", "99%", "99.9%", "CONTAINERS/S"}));
  // go-metrics: stddev sqrt(2/3) ms; the median at position 2 of 3; 75 % and above past rank n.
  EXPECT_EQ(rows[1], (std::vector<std::string>{"start", "3", "1", "1.00", "3.00", "2.00", "0.82", "2.00", "3.00",
                                               "3.00", "3.00", "3.00", "3.0"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"teardown", "2", "0", "0.50", "0.50", "0.50", "0.00", "0.50", "0.50",
                                               "0.50", "0.50", "0.50", "8.0"}));
}

TEST(BenchReportTest, NothingCompletedIsZeroesNotADivisionByZero) {
  BenchPhase none{"start", {}, 5, 0ns};
  EXPECT_EQ(PerSecond(none), 0);
  const auto rows = Cells(RenderBenchTable({none}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "0");
  EXPECT_EQ(rows[1][2], "5");
  EXPECT_EQ(rows[1].back(), "0.0");
}

}  // namespace
}  // namespace berth::cli
