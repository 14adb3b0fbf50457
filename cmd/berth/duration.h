// Go-style durations for the CLI's timeout flags ("30s", "1m30s", "500ms", "0").
#pragma once

#include <chrono>
#include <string_view>

#include "common/status.h"

namespace berth::cli {

// Parses a sequence of decimal numbers with units (ns, us, µs, ms, s, m, h), as Go's
// time.ParseDuration; a bare number is taken as seconds. Negative durations are invalid.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

}  // namespace berth::cli
