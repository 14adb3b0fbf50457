#include "berth/human.h"

#include <ctime>

#include <fmt/format.h>

namespace berth::cli {
namespace {

// Scales `size` down by `base` while it is at least `base`; returns the unit index.
size_t Scale(double& size, double base, size_t units) {
  size_t i = 0;
  while (size >= base && i + 1 < units) {
    size /= base;
    ++i;
  }
  return i;
}

std::tm Broken(TimePoint t, bool local, int64_t* nanos) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  *nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  if (local) {
    localtime_r(&tt, &tm);
  } else {
    gmtime_r(&tt, &tm);
  }
  return tm;
}

std::string DateTime(const std::tm& tm) {
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

std::string HumanSize(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t unit = Scale(bytes, 1000.0, std::size(kUnits));
  return fmt::format("{:.4g}{}", bytes, kUnits[unit]);
}

std::string HumanBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                           "PiB", "EiB", "ZiB", "YiB"};
  double size = static_cast<double>(bytes);
  size_t unit = Scale(size, 1024.0, std::size(kUnits));
  return fmt::format("{:02.1f} {}", size, kUnits[unit]);
}

std::string HumanDuration(std::chrono::nanoseconds d) {
  using std::chrono::duration;
  const double secs = duration<double>(d).count();
  const auto seconds = static_cast<int64_t>(secs);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  const auto minutes = static_cast<int64_t>(secs / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  const auto hours = static_cast<int64_t>(secs / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", static_cast<int64_t>(secs / 3600) / 24 / 365);
}

std::string FormatRfc3339Local(TimePoint t) {
  int64_t nanos = 0;
  std::tm tm = Broken(t, /*local=*/true, &nanos);
  std::string out = DateTime(tm);
  long offset = tm.tm_gmtoff;
  if (offset == 0) return out + "Z";
  char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  return out + fmt::format("{}{:02}:{:02}", sign, offset / 3600, offset % 3600 / 60);
}

std::string FormatRfc3339NanoUtc(TimePoint t) {
  int64_t nanos = 0;
  std::string out = DateTime(Broken(t, /*local=*/false, &nanos));
  if (nanos != 0) {
    std::string frac = fmt::format("{:09}", nanos);
    frac.erase(frac.find_last_not_of('0') + 1);
    out += '.' + frac;
  }
  return out + "Z";
}

}  // namespace berth::cli
