// Status and Result<T>: how errors cross component boundaries in berth.
//
// The error kinds are containerd's errdefs, so that every error maps to the gRPC code
// containerd would send for it. A Status carries a message that names the object
// (`namespace "n1"`); the wire text appends the kind the way containerd's errors read
// (`namespace "n1": not found`), which ctr unwraps back into its own error kinds.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace berth {

enum class Errc {
  kOk = 0,
  kUnknown,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kNotImplemented,
  kCanceled,
  kDeadlineExceeded,
  kResourceExhausted,
  kInternal,
};

// The text containerd's errdefs give each kind ("not found"); empty for kinds without one.
std::string_view ErrcText(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  // The message without the kind suffix.
  const std::string& message() const { return message_; }
  // `message: kind`, as containerd's error strings read.
  std::string ToString() const;

  // Prefixes context: Status(kNotFound,"x").Wrap("get y") -> "get y: x".
  Status Wrap(std::string_view context) const;

  bool Is(Errc code) const { return code_ == code; }

  // Drops this status on purpose (best-effort cleanup; an error already on its way out).
  void IgnoreError() const {}

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

template <typename... Args>
Status Error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}
#define BERTH_DEFINE_ERROR(Name, Code)                                     \
  template <typename... Args>                                              \
  Status Name(fmt::format_string<Args...> format, Args&&... args) {        \
    return Status(Code, fmt::format(format, std::forward<Args>(args)...)); \
  }
BERTH_DEFINE_ERROR(NotFound, Errc::kNotFound)
BERTH_DEFINE_ERROR(AlreadyExists, Errc::kAlreadyExists)
BERTH_DEFINE_ERROR(InvalidArgument, Errc::kInvalidArgument)
BERTH_DEFINE_ERROR(FailedPrecondition, Errc::kFailedPrecondition)
BERTH_DEFINE_ERROR(Unavailable, Errc::kUnavailable)
BERTH_DEFINE_ERROR(NotImplemented, Errc::kNotImplemented)
BERTH_DEFINE_ERROR(Unknown, Errc::kUnknown)
BERTH_DEFINE_ERROR(Internal, Errc::kInternal)
#undef BERTH_DEFINE_ERROR

// Status from the current errno: "<what>: <strerror>" as kUnknown (or kNotFound for ENOENT).
Status ErrnoStatus(std::string_view what, int err);

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {            // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Drops the value and any error on purpose, as Status::IgnoreError.
  void IgnoreError() const {}

 private:
  std::variant<T, Status> v_;
};

}  // namespace berth

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define BERTH_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::berth::Status berth_status_ = (expr);    \
    if (!berth_status_.ok()) return berth_status_; \
  } while (0)

#define BERTH_CONCAT_INNER(a, b) a##b
#define BERTH_CONCAT(a, b) BERTH_CONCAT_INNER(a, b)
// `BERTH_ASSIGN_OR_RETURN(auto x, Compute());`
#define BERTH_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto BERTH_CONCAT(berth_result_, __LINE__) = (expr);                      \
  if (!BERTH_CONCAT(berth_result_, __LINE__).ok())                          \
    return BERTH_CONCAT(berth_result_, __LINE__).status();                  \
  lhs = std::move(BERTH_CONCAT(berth_result_, __LINE__)).value()
