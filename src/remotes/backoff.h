// How long to wait before retrying a transient registry failure.
#pragma once

#include <chrono>
#include <string_view>

namespace berth::remotes {

// Retry-After values longer than this are not honoured (the exponential backoff is used).
inline constexpr std::chrono::seconds kMaxRetryAfter{30};

// Delay before retry number `attempt` (0 for the first retry): `base * 2^attempt` (capped at
// one minute), or the server's Retry-After when it is a number of seconds no greater than
// kMaxRetryAfter. HTTP-date Retry-After values are ignored.
std::chrono::milliseconds RetryDelay(int attempt, std::chrono::milliseconds base,
                                     std::string_view retry_after = {});

}  // namespace berth::remotes
