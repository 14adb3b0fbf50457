// Sizes, ages and times for people, as ctr prints them (docker/go-units and Go's time).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/timeutil.h"

namespace berth::cli {

// go-units HumanSize: decimal units, 4 significant digits ("1.049MB", "123B", "4.096kB").
std::string HumanSize(double bytes);

// containerd's progress.Bytes: binary units, one decimal ("1.0 KiB", "5.0 B", "2.3 MiB").
std::string HumanBytes(int64_t bytes);

// go-units HumanDuration: "Less than a second", "1 second", "5 seconds", "About a minute",
// "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "3 months", "2 years".
std::string HumanDuration(std::chrono::nanoseconds d);

// Go's time.RFC3339 of the time in the local zone ("2006-01-02T15:04:05+01:00", "...Z" in
// UTC), as `ctr leases ls` prints creation times.
std::string FormatRfc3339Local(TimePoint t);

// Go's time.RFC3339Nano in UTC: the fraction without trailing zeros, none when zero
// ("2006-01-02T15:04:05.5Z"), as Go's encoding/json writes times.
std::string FormatRfc3339NanoUtc(TimePoint t);

}  // namespace berth::cli
