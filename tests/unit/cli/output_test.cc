// The CLI's pure helpers (cmd/berth: tables, labels, timestamps, durations).
#include "berth/output.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "common/duration.h"

namespace berth::cli {
namespace {

using namespace std::chrono_literals;

TEST(OutputTest, TableAlignsColumnsWithoutTrailingBlanks) {
  Table table({"NAME", "LABELS"});
  table.AddRow({"default", ""});
  table.AddRow({"a", "k=v"});
  EXPECT_EQ(table.Render(),
            "NAME      LABELS\n"
            "default\n"
            "a         k=v\n");
}

TEST(OutputTest, TableCountsCharactersNotBytes) {
  Table table({"K", "V"});
  table.AddRow({"\xc3\xa9t\xc3\xa9", "x"});  // "été": 3 characters, 5 bytes
  EXPECT_EQ(table.Render(),
            "K     V\n"
            "\xc3\xa9t\xc3\xa9   x\n");
}

TEST(OutputTest, TableWithRaggedRows) {
  Table table;
  table.AddRow({"Requires:"});
  table.AddRow({"", "io.containerd.metadata.v1"});
  table.AddRow({});
  EXPECT_EQ(table.Render(),
            "Requires:\n"
            "            io.containerd.metadata.v1\n"
            "\n");
}

TEST(OutputTest, FormatLabelsSortedCommaSeparated) {
  EXPECT_EQ(FormatLabels({}), "");
  EXPECT_EQ(FormatLabels({{"b", "2"}, {"a", "1"}, {"c", ""}}), "a=1,b=2,c=");
}

TEST(OutputTest, FormatGoTimeTrimsTheFraction) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(1700000000);  // 2023-11-14 22:13:20 UTC
  EXPECT_EQ(FormatGoTime(ts), "2023-11-14 22:13:20 +0000 UTC");
  ts.set_nanos(123450000);
  EXPECT_EQ(FormatGoTime(ts), "2023-11-14 22:13:20.12345 +0000 UTC");
  ts.set_nanos(1);
  EXPECT_EQ(FormatGoTime(ts), "2023-11-14 22:13:20.000000001 +0000 UTC");
}

TEST(OutputTest, ParseDurationGoStyle) {
  EXPECT_EQ(ParseDuration("30s").value(), 30s);
  EXPECT_EQ(ParseDuration("1m30s").value(), 90s);
  EXPECT_EQ(ParseDuration("500ms").value(), 500ms);
  EXPECT_EQ(ParseDuration("1.5h").value(), 90min);
  EXPECT_EQ(ParseDuration("2us").value(), 2us);
  EXPECT_EQ(ParseDuration("0").value(), 0s);
  EXPECT_EQ(ParseDuration("10").value(), 10s);  // bare number: seconds
}

TEST(OutputTest, FormatDurationAsGoAndBack) {
  EXPECT_EQ(FormatDuration(60s), "1m0s");
  EXPECT_EQ(FormatDuration(90min), "1h30m0s");
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(500ms), "500ms");
  EXPECT_EQ(FormatDuration(0s), "0s");
  EXPECT_EQ(FormatDuration(2us), "2us");
  for (auto d : {std::chrono::nanoseconds(61s), std::chrono::nanoseconds(1500ms), std::chrono::nanoseconds(3h)}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)).value(), d);
  }
}

// Exact as Go's, past 2^53 ns too (found by fuzz/config_toml: a double rounded, so a config
// dump changed metrics_interval).
TEST(OutputTest, ParseDurationIsExactAndBoundedAsGo) {
  EXPECT_EQ(ParseDuration("9007199254740993ns").value().count(), 9007199254740993LL);
  EXPECT_EQ(ParseDuration("9223372036854775807ns").value().count(), INT64_MAX);
  EXPECT_TRUE(ParseDuration("9223372036854775808ns").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseDuration("2562048h").status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(ParseDuration("1.000000001s").value().count(), 1000000001);
  for (int64_t n : {int64_t{6794199057152167}, int64_t{9007199254740993}, int64_t{INT64_MAX}}) {
    auto d = std::chrono::nanoseconds(n);
    EXPECT_EQ(ParseDuration(FormatDuration(d)).value(), d) << FormatDuration(d);
  }
}

TEST(OutputTest, ParseDurationRejectsNonsense) {
  for (const char* bad : {"", "s", "3x", "1m30", "-1s", "1..5s", "abc", ".s", "1.2.3s"}) {
    EXPECT_TRUE(ParseDuration(bad).status().Is(Errc::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace berth::cli
