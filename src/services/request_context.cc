#include "services/request_context.h"

#include "common/identifiers.h"

namespace berth::services {

std::optional<std::string> NamespaceOf(const grpc::ServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(kNamespaceHeader);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

Result<std::string> RequireNamespace(const grpc::ServerContext& ctx) {
  auto ns = NamespaceOf(ctx);
  if (!ns || ns->empty()) return FailedPrecondition("namespace is required");
  Status st = identifiers::Validate(*ns);
  if (!st.ok()) return st.Wrap("namespace validation");
  return *ns;
}

}  // namespace berth::services
