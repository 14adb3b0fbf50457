// containerd's errdefs kinds <-> gRPC status code numbers (google.golang.org/grpc/codes), with
// no dependency on gRPC itself: shared by the gRPC services and by ttrpc, which carries the same
// numbers in google.rpc.Status.
#pragma once

#include <string_view>

#include "common/status.h"

namespace berth {

// The gRPC code containerd's errdefs.ToGRPC sends for a kind.
int GrpcCodeFromErrc(Errc code);

// The kind for a gRPC code, as containerd's errdefs.FromGRPC reads it; berth's own
// ResourceExhausted and Internal come back as themselves; anything else is kUnknown.
Errc ErrcFromGrpcCode(int code);

// The Status for a received (code, message). The sender's message already ends in the kind's
// text (`container "x": not found`); that suffix is stripped so ToString() does not repeat it.
Status StatusFromGrpc(int code, std::string_view message);

}  // namespace berth
