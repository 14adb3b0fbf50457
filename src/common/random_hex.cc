#include "common/random_hex.h"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <vector>

#include <fmt/format.h>

namespace berth {

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (bytes > 0 && RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    static std::atomic<uint64_t> counter{0};
    uint64_t v = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                 (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<unsigned char>(v >> (8 * (i % 8)));
  }
  std::string out;
  out.reserve(2 * bytes);
  for (unsigned char c : buf) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace berth
