#include "remotes/backoff.h"

#include <algorithm>
#include <charconv>

namespace berth::remotes {

std::chrono::milliseconds RetryDelay(int attempt, std::chrono::milliseconds base,
                                     std::string_view retry_after) {
  while (!retry_after.empty() && retry_after.front() == ' ') retry_after.remove_prefix(1);
  while (!retry_after.empty() && retry_after.back() == ' ') retry_after.remove_suffix(1);
  if (!retry_after.empty()) {
    long long seconds = -1;
    auto [end, ec] = std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
    if (ec == std::errc() && end == retry_after.data() + retry_after.size() && seconds >= 0 &&
        seconds <= kMaxRetryAfter.count()) {
      return std::chrono::seconds(seconds);
    }
  }
  constexpr std::chrono::milliseconds kCap = std::chrono::minutes(1);
  std::chrono::milliseconds delay = std::max(base, std::chrono::milliseconds(0));
  for (int i = 0; i < attempt && delay < kCap; ++i) delay *= 2;
  return std::min(delay, kCap);
}

}  // namespace berth::remotes
