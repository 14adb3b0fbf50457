// What a request carries besides its message: the namespace, in gRPC metadata
// `containerd-namespace` exactly as containerd's clients send it, and the lease.
#pragma once

#include <optional>
#include <string>

#include <grpcpp/server_context.h>

#include "common/status.h"
#include "metadata/content_store.h"

namespace berth::services {

inline constexpr const char* kNamespaceHeader = "containerd-namespace";
// The lease a request works under (containerd's leases.WithLease): resources it creates
// are added to that lease so GC keeps them until the lease goes.
inline constexpr const char* kLeaseHeader = "containerd-lease";

// The namespace the client named, if any (not validated).
std::optional<std::string> NamespaceOf(const grpc::ServerContext& ctx);
// The namespace, required and valid: FailedPrecondition "namespace is required" when
// absent (containerd's NamespaceRequired), InvalidArgument when not an identifier.
Result<std::string> RequireNamespace(const grpc::ServerContext& ctx);

// The lease the client named, if any.
std::optional<std::string> LeaseOf(const grpc::ServerContext& ctx);

// The namespace (as RequireNamespace) and the lease: whom a content request is for.
Result<metadata::ContentScope> ContentScopeOf(const grpc::ServerContext& ctx);

}  // namespace berth::services
