// Go-style durations for timeout and interval settings ("30s", "1m30s", "500ms", "0").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth {

// Parses a sequence of decimal numbers with units (ns, us, µs, ms, s, m, h), as Go's
// time.ParseDuration; a bare number is taken as seconds. Negative durations are invalid.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// As Go's Duration.String: "1m0s", "1h30m0s", "1.5s", "500ms", "0s"; ParseDuration reads it back.
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace berth
