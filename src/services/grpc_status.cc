#include "services/grpc_status.h"

namespace berth::services {

grpc::StatusCode ToGrpcCode(Errc code) {
  switch (code) {
    case Errc::kOk: return grpc::StatusCode::OK;
    case Errc::kUnknown: return grpc::StatusCode::UNKNOWN;
    case Errc::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case Errc::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case Errc::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case Errc::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case Errc::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case Errc::kNotImplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case Errc::kCanceled: return grpc::StatusCode::CANCELLED;
    case Errc::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Errc::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Errc::kInternal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), status.ToString());
}

}  // namespace berth::services
