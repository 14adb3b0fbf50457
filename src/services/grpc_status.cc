#include "services/grpc_status.h"

#include "common/grpc_codes.h"

namespace berth::services {

grpc::StatusCode ToGrpcCode(Errc code) {
  return static_cast<grpc::StatusCode>(GrpcCodeFromErrc(code));
}

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), status.ToString());
}

}  // namespace berth::services
