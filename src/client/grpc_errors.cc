#include "client/grpc_errors.h"

#include <string>

namespace berth::client {

Errc ErrcFromGrpcCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return Errc::kOk;
    case grpc::StatusCode::NOT_FOUND: return Errc::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS: return Errc::kAlreadyExists;
    case grpc::StatusCode::INVALID_ARGUMENT: return Errc::kInvalidArgument;
    case grpc::StatusCode::FAILED_PRECONDITION: return Errc::kFailedPrecondition;
    case grpc::StatusCode::UNAVAILABLE: return Errc::kUnavailable;
    case grpc::StatusCode::UNIMPLEMENTED: return Errc::kNotImplemented;
    case grpc::StatusCode::CANCELLED: return Errc::kCanceled;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Errc::kDeadlineExceeded;
    default: return Errc::kUnknown;
  }
}

Status FromGrpc(grpc::StatusCode code, std::string_view message) {
  Errc errc = ErrcFromGrpcCode(code);
  if (errc == Errc::kOk) return Status::Ok();

  std::string_view kind = ErrcText(errc);
  std::string_view msg = message;
  if (!kind.empty()) {
    if (msg == kind) {
      msg = {};
    } else if (msg.size() > kind.size() + 2 && msg.ends_with(kind) &&
               msg.substr(msg.size() - kind.size() - 2, 2) == ": ") {
      msg.remove_suffix(kind.size() + 2);
    }
  }
  // gRPC's own texts for these two say nothing the kind does not ("Deadline Exceeded").
  if ((errc == Errc::kDeadlineExceeded && msg == "Deadline Exceeded") ||
      (errc == Errc::kCanceled && msg == "Cancelled")) {
    msg = {};
  }
  // Kinds without a text (kUnknown) need some message to print.
  if (msg.empty() && kind.empty()) msg = "unknown";
  return Status(errc, std::string(msg));
}

Status FromGrpc(const grpc::Status& status) {
  return FromGrpc(status.error_code(), status.error_message());
}

}  // namespace berth::client
