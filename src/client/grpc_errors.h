// Mapping of gRPC statuses back to berth's error kinds, as containerd's errdefs.FromGRPC does.
#pragma once

#include <string_view>

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace berth::client {

// The Errc for a gRPC code (unlisted codes are kUnknown, as in containerd).
Errc ErrcFromGrpcCode(grpc::StatusCode code);

// The Status for a gRPC status. The server's message already ends in the kind's text
// (`namespace "x": not found`); that suffix is stripped so that Status::ToString() does not
// repeat it.
Status FromGrpc(const grpc::Status& status);
Status FromGrpc(grpc::StatusCode code, std::string_view message);

}  // namespace berth::client
