#include "client/grpc_errors.h"

#include "common/grpc_codes.h"

namespace berth::client {

// As containerd's errdefs.FromGRPC: only the kinds containerd knows come back as themselves
// (berth's own ResourceExhausted and Internal, which the shared mapping keeps, read as Unknown).
Errc ErrcFromGrpcCode(grpc::StatusCode code) {
  Errc errc = berth::ErrcFromGrpcCode(static_cast<int>(code));
  if (errc == Errc::kResourceExhausted || errc == Errc::kInternal) return Errc::kUnknown;
  return errc;
}

Status FromGrpc(grpc::StatusCode code, std::string_view message) {
  int wire = ErrcFromGrpcCode(code) == Errc::kUnknown ? static_cast<int>(grpc::StatusCode::UNKNOWN)
                                                      : static_cast<int>(code);
  return StatusFromGrpc(wire, message);
}

Status FromGrpc(const grpc::Status& status) {
  return FromGrpc(status.error_code(), status.error_message());
}

}  // namespace berth::client
