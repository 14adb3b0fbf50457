#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace berth::log {
namespace {

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out += v;
    return;
  }
  out += fmt::format("{:?}", v);
}

}  // namespace

Status Init(std::string_view level) {
  // logrus's names (containerd's [debug] level) beside spdlog's.
  if (level == "warning") level = "warn";
  if (level == "fatal" || level == "panic") level = "critical";
  auto lvl = spdlog::level::from_str(std::string(level));
  // from_str answers "off" for anything it does not know.
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgument("unknown log level {:?}", level);
  }
  auto logger = spdlog::stderr_logger_mt("berth");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  spdlog::set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%fZ\" level=%l %v", spdlog::pattern_time_type::utc);
  spdlog::flush_on(spdlog::level::warn);
  return Status::Ok();
}

std::string Format(std::string_view msg, Fields fields) {
  std::string out = "msg=";
  out += fmt::format("{:?}", msg);
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    AppendValue(out, f.value);
  }
  return out;
}

}  // namespace berth::log
