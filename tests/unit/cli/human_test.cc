// The CLI's human-readable sizes, ages and times (cmd/berth/human.h), and label updates.
#include "berth/human.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "berth/label_update.h"

namespace berth::cli {
namespace {

using namespace std::chrono_literals;

TEST(HumanTest, HumanSizeIsGoUnitsHumanSize) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(123), "123B");
  EXPECT_EQ(HumanSize(999), "999B");
  EXPECT_EQ(HumanSize(1000), "1kB");
  EXPECT_EQ(HumanSize(4096), "4.096kB");
  EXPECT_EQ(HumanSize(1048576), "1.049MB");
  EXPECT_EQ(HumanSize(3145728), "3.146MB");
  EXPECT_EQ(HumanSize(1500000000), "1.5GB");
}

TEST(HumanTest, HumanBytesIsContainerdProgressBytes) {
  EXPECT_EQ(HumanBytes(0), "0.0 B");
  EXPECT_EQ(HumanBytes(5), "5.0 B");
  EXPECT_EQ(HumanBytes(1023), "1023.0 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(5 * 1024 * 1024 + 300 * 1024), "5.3 MiB");
  EXPECT_EQ(HumanBytes(int64_t{3} << 30), "3.0 GiB");
}

TEST(HumanTest, HumanDurationIsGoUnitsHumanDuration) {
  EXPECT_EQ(HumanDuration(-5s), "Less than a second");
  EXPECT_EQ(HumanDuration(500ms), "Less than a second");
  EXPECT_EQ(HumanDuration(1s), "1 second");
  EXPECT_EQ(HumanDuration(59s), "59 seconds");
  EXPECT_EQ(HumanDuration(60s), "About a minute");
  EXPECT_EQ(HumanDuration(119s), "About a minute");
  EXPECT_EQ(HumanDuration(59min), "59 minutes");
  EXPECT_EQ(HumanDuration(60min), "About an hour");
  EXPECT_EQ(HumanDuration(89min), "About an hour");
  EXPECT_EQ(HumanDuration(90min), "2 hours");
  EXPECT_EQ(HumanDuration(47h), "47 hours");
  EXPECT_EQ(HumanDuration(48h), "2 days");
  EXPECT_EQ(HumanDuration(24h * 14), "2 weeks");
  EXPECT_EQ(HumanDuration(24h * 60), "2 months");
  EXPECT_EQ(HumanDuration(24h * 365 * 3), "3 years");
}

TEST(HumanTest, Rfc3339NanoUtcTrimsTheFraction) {
  TimePoint t = Clock::from_time_t(1700000000);
  EXPECT_EQ(FormatRfc3339NanoUtc(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339NanoUtc(t + 500ms), "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(FormatRfc3339NanoUtc(t + 123456us), "2023-11-14T22:13:20.123456Z");
}

TEST(HumanTest, Rfc3339LocalHasTheZoneOffset) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  TimePoint t = Clock::from_time_t(1700000000) + 250ms;
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(FormatRfc3339Local(t), "2023-11-14T22:13:20Z");
  setenv("TZ", "EST5", 1);  // UTC-5, no daylight saving
  tzset();
  EXPECT_EQ(FormatRfc3339Local(t), "2023-11-14T17:13:20-05:00");
  setenv("TZ", "<+0530>-5:30", 1);
  tzset();
  EXPECT_EQ(FormatRfc3339Local(t), "2023-11-15T03:43:20+05:30");
  if (old) setenv("TZ", saved.c_str(), 1); else unsetenv("TZ");
  tzset();
}

TEST(HumanLabelUpdateTest, OnePathPerKeyAndEmptyValuesClear) {
  auto update = ParseLabelUpdate({"a=1", "b=", "c", "d=x=y"});
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->paths,
            (std::vector<std::string>{"labels.a", "labels.b", "labels.c", "labels.d"}));
  EXPECT_EQ(update->labels, (labels::Labels{{"a", "1"}, {"d", "x=y"}}));

  auto none = ParseLabelUpdate({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->paths.empty());
  EXPECT_FALSE(ParseLabelUpdate({"=v"}).ok());
}

}  // namespace
}  // namespace berth::cli
