#include "common/duration.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace berth {
namespace {

// Nanoseconds per unit, or 0 for an unknown unit.
double UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

bool IsNumberChar(char c) { return (c >= '0' && c <= '9') || c == '.'; }

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  auto invalid = [&] { return InvalidArgument("invalid duration {:?}", text); };
  if (text.empty()) return invalid();
  std::string_view rest = text;
  double total = 0;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && IsNumberChar(rest[n])) ++n;
    if (n == 0) return invalid();
    std::string number(rest.substr(0, n));
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !IsNumberChar(rest[u])) ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);

    double per_unit = 1e9;  // a bare number is seconds, but only on its own
    if (unit.empty()) {
      if (number.size() != text.size()) return invalid();
    } else {
      per_unit = UnitNanos(unit);
      if (per_unit == 0)
        return InvalidArgument("invalid duration {:?}: unknown unit {:?}", text, unit);
    }
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return invalid();
    total += value * per_unit;
  }
  if (!std::isfinite(total) || total > 9.2e18) {
    return InvalidArgument("invalid duration {:?}: too large", text);
  }
  return std::chrono::nanoseconds(std::llround(total));
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
