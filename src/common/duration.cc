#include "common/duration.h"

#include <cstdint>
#include <string>

namespace berth {
namespace {

// Nanoseconds per unit, or 0 for an unknown unit.
uint64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return 60000000000ULL;
  if (unit == "h") return 3600000000000ULL;
  return 0;
}

bool IsNumberChar(char c) { return (c >= '0' && c <= '9') || c == '.'; }

constexpr uint64_t kMaxNanos = uint64_t{1} << 63;  // exclusive, as Go's time.ParseDuration

}  // namespace

// Go's time.ParseDuration, exactly: whole parts in integers (a double would round
// 9007199254740993ns), fractions scaled as Go scales them.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  auto invalid = [&] { return InvalidArgument("invalid duration {:?}", text); };
  auto too_large = [&] { return InvalidArgument("invalid duration {:?}: too large", text); };
  if (text.empty()) return invalid();
  std::string_view rest = text;
  uint64_t total = 0;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && IsNumberChar(rest[n])) ++n;
    if (n == 0) return invalid();
    std::string_view number = rest.substr(0, n);
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !IsNumberChar(rest[u])) ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);

    uint64_t per_unit = 1000000000;  // a bare number is seconds, but only on its own
    if (unit.empty()) {
      if (number.size() != text.size()) return invalid();
    } else {
      per_unit = UnitNanos(unit);
      if (per_unit == 0) return InvalidArgument("invalid duration {:?}: unknown unit {:?}", text, unit);
    }
    size_t dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
    if (frac.find('.') != std::string_view::npos || (whole.empty() && frac.empty())) return invalid();
    uint64_t v = 0;
    for (char c : whole) {
      if (v > (kMaxNanos - 1) / 10) return too_large();
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t f = 0;
    double scale = 1;
    for (char c : frac) {
      if (f > (kMaxNanos - 1) / 10) break;  // digits past what fits change nothing (as Go)
      f = f * 10 + static_cast<uint64_t>(c - '0');
      scale *= 10;
    }
    if (v > (kMaxNanos - 1) / per_unit) return too_large();
    v *= per_unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(per_unit) / scale));
      if (v >= kMaxNanos) return too_large();
    }
    total += v;
    if (total >= kMaxNanos) return too_large();
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  if (ns == 0) return "0s";
  // A whole number plus its fraction without trailing zeros: 1500 ms -> "1.5".
  auto fixed = [](int64_t value, int64_t unit) {
    std::string out = std::to_string(value / unit);
    int64_t frac = value % unit;
    if (frac == 0) return out;
    std::string digits = std::to_string(unit + frac).substr(1);  // zero-padded
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return out + "." + digits;
  };
  if (ns < 1000) return sign + std::to_string(ns) + "ns";
  if (ns < 1000000) return sign + fixed(ns, 1000) + "us";
  if (ns < 1000000000) return sign + fixed(ns, 1000000) + "ms";
  int64_t hours = ns / 3600000000000LL;
  ns %= 3600000000000LL;
  int64_t minutes = ns / 60000000000LL;
  ns %= 60000000000LL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + fixed(ns, 1000000000) + "s";
}

}  // namespace berth
