#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace berth {

std::string_view ErrcText(Errc code) {
  switch (code) {
    case Errc::kOk: return "";
    case Errc::kUnknown: return "";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNotFound: return "not found";
    case Errc::kAlreadyExists: return "already exists";
    case Errc::kFailedPrecondition: return "failed precondition";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kNotImplemented: return "not implemented";
    case Errc::kCanceled: return "context canceled";
    case Errc::kDeadlineExceeded: return "context deadline exceeded";
    case Errc::kResourceExhausted: return "";
    case Errc::kInternal: return "";
  }
  return "";
}

std::string Status::ToString() const {
  std::string_view kind = ErrcText(code_);
  if (kind.empty()) return message_;
  if (message_.empty()) return std::string(kind);
  return message_ + ": " + std::string(kind);
}

Status Status::Wrap(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, message_.empty() ? std::string(context)
                                        : std::string(context) + ": " + message_);
}

Status ErrnoStatus(std::string_view what, int err) {
  Errc code = Errc::kUnknown;
  if (err == ENOENT) code = Errc::kNotFound;
  if (err == EEXIST) code = Errc::kAlreadyExists;
  if (err == EINVAL) code = Errc::kInvalidArgument;
  std::string msg = fmt::format("{}: {}", what, std::strerror(err));
  return Status(code, std::move(msg));
}

}  // namespace berth
