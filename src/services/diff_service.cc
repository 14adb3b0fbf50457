#include "services/diff_service.h"

#include "mount/mount_proto.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

Result<metadata::ContentScope> ScopeOf(const grpc::ServerContext& ctx) {
  auto ns = RequireNamespace(ctx);
  if (!ns.ok()) return ns.status();
  return metadata::ContentScope{std::move(ns).value(), LeaseOf(ctx)};
}

void ToProto(const diff::Descriptor& d, containerd::types::Descriptor* out) {
  out->set_media_type(d.media_type);
  out->set_digest(d.digest);
  out->set_size(d.size);
}

}  // namespace

grpc::Status DiffService::Apply(grpc::ServerContext* ctx, const diffapi::ApplyRequest* req,
                                diffapi::ApplyResponse* resp) {
  auto scope = ScopeOf(*ctx);
  if (!scope.ok()) return ToGrpc(scope.status());
  const auto& d = req->diff();
  auto applied = differ_.Apply(*scope, diff::Descriptor{d.media_type(), d.digest(), d.size()},
                               mount::FromProto(req->mounts()));
  if (!applied.ok()) return ToGrpc(applied.status());
  ToProto(*applied, resp->mutable_applied());
  return grpc::Status::OK;
}

grpc::Status DiffService::Diff(grpc::ServerContext* ctx, const diffapi::DiffRequest* req,
                               diffapi::DiffResponse* resp) {
  auto scope = ScopeOf(*ctx);
  if (!scope.ok()) return ToGrpc(scope.status());
  diff::CompareOptions opts;
  opts.media_type = req->media_type();
  opts.ref = req->ref();
  opts.labels = labels::Labels(req->labels().begin(), req->labels().end());
  auto layer = differ_.Compare(*scope, mount::FromProto(req->left()), mount::FromProto(req->right()), opts);
  if (!layer.ok()) return ToGrpc(layer.status());
  ToProto(*layer, resp->mutable_diff());
  return grpc::Status::OK;
}

}  // namespace berth::services
