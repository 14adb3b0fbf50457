// What a request carries besides its message: the namespace, in gRPC metadata
// `containerd-namespace` exactly as containerd's clients send it.
#pragma once

#include <optional>
#include <string>

#include <grpcpp/server_context.h>

#include "common/status.h"

namespace berth::services {

inline constexpr const char* kNamespaceHeader = "containerd-namespace";

// The namespace the client named, if any (not validated).
std::optional<std::string> NamespaceOf(const grpc::ServerContext& ctx);
// The namespace, required and valid: FailedPrecondition "namespace is required" when
// absent (containerd's NamespaceRequired), InvalidArgument when not an identifier.
Result<std::string> RequireNamespace(const grpc::ServerContext& ctx);

}  // namespace berth::services
