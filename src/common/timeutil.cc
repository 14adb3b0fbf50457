#include "common/timeutil.h"

#include <ctime>

#include <fmt/format.h>

namespace berth {

int64_t ToUnixNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixNanos(int64_t ns) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

void SetTimestamp(google::protobuf::Timestamp* out, int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t nanos = unix_nanos % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(nanos));
}

google::protobuf::Timestamp ToProto(TimePoint t) {
  google::protobuf::Timestamp ts;
  SetTimestamp(&ts, ToUnixNanos(t));
  return ts;
}

TimePoint FromProto(const google::protobuf::Timestamp& ts) {
  return FromUnixNanos(ts.seconds() * 1'000'000'000 + ts.nanos());
}

std::string FormatRfc3339(TimePoint t) {
  int64_t ns = ToUnixNanos(t);
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace berth
