#include "services/request_context.h"

#include "common/identifiers.h"

namespace berth::services {

namespace {

std::optional<std::string> Header(const grpc::ServerContext& ctx, const char* key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

std::optional<std::string> NamespaceOf(const grpc::ServerContext& ctx) {
  return Header(ctx, kNamespaceHeader);
}

std::optional<std::string> LeaseOf(const grpc::ServerContext& ctx) {
  auto lease = Header(ctx, kLeaseHeader);
  if (lease && lease->empty()) return std::nullopt;
  return lease;
}

Result<std::string> RequireNamespace(const grpc::ServerContext& ctx) {
  auto ns = NamespaceOf(ctx);
  if (!ns || ns->empty()) return FailedPrecondition("namespace is required");
  Status st = identifiers::Validate(*ns);
  if (!st.ok()) return st.Wrap("namespace validation");
  return *ns;
}

Result<metadata::ContentScope> ContentScopeOf(const grpc::ServerContext& ctx) {
  BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(ctx));
  return metadata::ContentScope{std::move(ns), LeaseOf(ctx)};
}

}  // namespace berth::services
