#include "common/grpc_codes.h"

#include <string>

namespace berth {

namespace {
// google.golang.org/grpc/codes numbers.
enum GrpcCode : int {
  kGrpcOk = 0,
  kGrpcCanceled = 1,
  kGrpcUnknown = 2,
  kGrpcInvalidArgument = 3,
  kGrpcDeadlineExceeded = 4,
  kGrpcNotFound = 5,
  kGrpcAlreadyExists = 6,
  kGrpcResourceExhausted = 8,
  kGrpcFailedPrecondition = 9,
  kGrpcUnimplemented = 12,
  kGrpcInternal = 13,
  kGrpcUnavailable = 14,
};
}  // namespace

int GrpcCodeFromErrc(Errc code) {
  switch (code) {
    case Errc::kOk: return kGrpcOk;
    case Errc::kUnknown: return kGrpcUnknown;
    case Errc::kInvalidArgument: return kGrpcInvalidArgument;
    case Errc::kNotFound: return kGrpcNotFound;
    case Errc::kAlreadyExists: return kGrpcAlreadyExists;
    case Errc::kFailedPrecondition: return kGrpcFailedPrecondition;
    case Errc::kUnavailable: return kGrpcUnavailable;
    case Errc::kNotImplemented: return kGrpcUnimplemented;
    case Errc::kCanceled: return kGrpcCanceled;
    case Errc::kDeadlineExceeded: return kGrpcDeadlineExceeded;
    case Errc::kResourceExhausted: return kGrpcResourceExhausted;
    case Errc::kInternal: return kGrpcInternal;
  }
  return kGrpcUnknown;
}

Errc ErrcFromGrpcCode(int code) {
  switch (code) {
    case kGrpcOk: return Errc::kOk;
    case kGrpcNotFound: return Errc::kNotFound;
    case kGrpcAlreadyExists: return Errc::kAlreadyExists;
    case kGrpcInvalidArgument: return Errc::kInvalidArgument;
    case kGrpcFailedPrecondition: return Errc::kFailedPrecondition;
    case kGrpcUnavailable: return Errc::kUnavailable;
    case kGrpcUnimplemented: return Errc::kNotImplemented;
    case kGrpcCanceled: return Errc::kCanceled;
    case kGrpcDeadlineExceeded: return Errc::kDeadlineExceeded;
    case kGrpcResourceExhausted: return Errc::kResourceExhausted;
    case kGrpcInternal: return Errc::kInternal;
    default: return Errc::kUnknown;
  }
}

Status StatusFromGrpc(int code, std::string_view message) {
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
  // Kinds without a text need some message to print.
  if (msg.empty() && kind.empty()) msg = "unknown";
  return Status(errc, std::string(msg));
}

}  // namespace berth
