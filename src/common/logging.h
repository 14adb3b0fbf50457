// Logging: spdlog to stderr in a logfmt-like line (`time=... level=... msg="..." key=value`),
// so every line carries its context (namespace, id, ...) as fields that tools can grep.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/status.h"

namespace berth::log {

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename T>
    requires std::is_arithmetic_v<T>
  Field(std::string_view k, T v) : key(k), value(fmt::format("{}", v)) {}
};
using Fields = std::initializer_list<Field>;

// Sets the global level ("trace", "debug", "info", "warn", "error") and the line format.
// Call once, before other threads start (it replaces spdlog's default logger). The logging
// functions below are thread-safe (spdlog's _mt logger).
Status Init(std::string_view level);

// `msg="..." k=v k2="v 2"`: the fields quoted when they need it.
std::string Format(std::string_view msg, Fields fields);

inline void Debug(std::string_view msg, Fields fields = {}) {
  if (spdlog::should_log(spdlog::level::debug)) spdlog::debug("{}", Format(msg, fields));
}
inline void Info(std::string_view msg, Fields fields = {}) {
  spdlog::info("{}", Format(msg, fields));
}
inline void Warn(std::string_view msg, Fields fields = {}) {
  spdlog::warn("{}", Format(msg, fields));
}
inline void Error(std::string_view msg, Fields fields = {}) {
  spdlog::error("{}", Format(msg, fields));
}

}  // namespace berth::log
