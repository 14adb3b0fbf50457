#include "common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

namespace berth {
namespace {

struct Armed {
  bool active = false;
  std::string name;
  long nth = 1;
  std::atomic<long> passes{0};
};

Armed& Arm() {
  static Armed* armed = [] {
    auto* a = new Armed();  // never freed: a pass may come from any thread at exit
    const char* spec = std::getenv(kCrashPointEnv);
    if (spec == nullptr || *spec == '\0') return a;
    std::string_view s(spec);
    if (auto at = s.rfind('@'); at != std::string_view::npos) {
      long n = 0;
      auto [end, ec] = std::from_chars(s.data() + at + 1, s.data() + s.size(), n);
      if (ec == std::errc() && end == s.data() + s.size() && n > 0) {
        a->nth = n;
        s = s.substr(0, at);
      }
    }
    a->name = std::string(s);
    a->active = true;
    return a;
  }();
  return *armed;
}

}  // namespace

void CrashPoint(std::string_view name) {
  Armed& a = Arm();
  if (!a.active || name != a.name) return;
  if (a.passes.fetch_add(1) + 1 != a.nth) return;
  // No logger (it may hold locks): one write(2), then the signal nobody can catch.
  std::string line = "berth: crash point " + a.name + "@" + std::to_string(a.nth) + " reached: SIGKILL\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

}  // namespace berth
