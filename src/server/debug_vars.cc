#include "server/debug_vars.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace berth::server {
namespace {

const auto kStarted = std::chrono::steady_clock::now();

std::string ReadProc(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A "Name:  value kB" line of /proc/self/status, in bytes (or as is without a unit).
int64_t StatusValue(const std::string& status, const std::string& name) {
  size_t at = status.find("\n" + name + ":");
  if (at == std::string::npos) return 0;
  std::istringstream line(status.substr(at + name.size() + 2));
  int64_t value = 0;
  std::string unit;
  line >> value >> unit;
  return unit == "kB" ? value * 1024 : value;
}

}  // namespace

std::string DebugVarsJson() {
  nlohmann::json out;
  nlohmann::json cmdline = nlohmann::json::array();
  std::string raw = ReadProc("/proc/self/cmdline");
  for (size_t pos = 0; pos < raw.size();) {
    size_t end = raw.find('\0', pos);
    if (end == std::string::npos) end = raw.size();
    cmdline.push_back(raw.substr(pos, end - pos));
    pos = end + 1;
  }
  out["cmdline"] = cmdline;
  out["pid"] = ::getpid();
  std::string status = ReadProc("/proc/self/status");
  out["memstats"] = {{"rss_bytes", StatusValue(status, "VmRSS")},
                     {"rss_peak_bytes", StatusValue(status, "VmHWM")},
                     {"virtual_bytes", StatusValue(status, "VmSize")}};
  out["threads"] = StatusValue(status, "Threads");
  std::error_code ec;
  int64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++fds;
  }
  out["fds"] = fds;
  out["uptime_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - kStarted).count();
  // Not every byte of a command line is UTF-8: replace what is not rather than throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace berth::server
