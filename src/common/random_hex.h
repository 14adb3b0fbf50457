// Random lowercase hex for names that must not collide (temporary keys, exec ids, batch tags).
#pragma once

#include <cstddef>
#include <string>

namespace berth {

// 2·`bytes` hex digits from OpenSSL's RAND_bytes (on its failure, from the clock and a counter:
// still unlikely to collide, and callers report a collision anyway).
std::string RandomHex(size_t bytes);

}  // namespace berth
