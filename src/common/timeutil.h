// Time conversions between the clock, protobuf Timestamps and text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <google/protobuf/timestamp.pb.h>

namespace berth {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Nanoseconds since the Unix epoch (how timestamps are stored in the metadata DB).
int64_t ToUnixNanos(TimePoint t);
TimePoint FromUnixNanos(int64_t ns);

google::protobuf::Timestamp ToProto(TimePoint t);
TimePoint FromProto(const google::protobuf::Timestamp& ts);
void SetTimestamp(google::protobuf::Timestamp* out, int64_t unix_nanos);

// RFC 3339 with nanoseconds, UTC ("2026-11-23T11:00:00.123456789Z").
std::string FormatRfc3339(TimePoint t);

}  // namespace berth
