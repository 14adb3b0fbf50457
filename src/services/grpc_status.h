// Status <-> grpc::Status, with the codes containerd's errdefs.ToGRPC uses.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace berth::services {

grpc::StatusCode ToGrpcCode(Errc code);
// The message is Status::ToString(): "namespace \"x\": not found", as containerd sends it.
grpc::Status ToGrpc(const Status& status);

}  // namespace berth::services
