#include "services/containers_service.h"

#include "common/logging.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

metadata::Container ContainersService::FromProto(const containersapi::Container& c) {
  metadata::Container out;
  out.id = c.id();
  out.labels = labels::Labels(c.labels().begin(), c.labels().end());
  out.image = c.image();
  out.runtime.name = c.runtime().name();
  if (c.runtime().has_options()) out.runtime.options = c.runtime().options();
  if (c.has_spec()) out.spec = c.spec();
  out.snapshotter = c.snapshotter();
  out.snapshot_key = c.snapshot_key();
  for (const auto& [name, any] : c.extensions()) out.extensions.emplace(name, any);
  return out;
}

void ContainersService::ToProto(const metadata::Container& c, containersapi::Container* out) {
  out->set_id(c.id);
  for (const auto& [k, v] : c.labels) (*out->mutable_labels())[k] = v;
  out->set_image(c.image);
  out->mutable_runtime()->set_name(c.runtime.name);
  if (c.runtime.options) *out->mutable_runtime()->mutable_options() = *c.runtime.options;
  if (c.spec) *out->mutable_spec() = *c.spec;
  out->set_snapshotter(c.snapshotter);
  out->set_snapshot_key(c.snapshot_key);
  *out->mutable_created_at() = berth::ToProto(c.created_at);
  *out->mutable_updated_at() = berth::ToProto(c.updated_at);
  for (const auto& [name, any] : c.extensions) (*out->mutable_extensions())[name] = any;
}

Result<std::vector<metadata::Container>> ContainersService::ListAll(
    const grpc::ServerContext& ctx, const containersapi::ListContainersRequest& req) {
  BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(ctx));
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  return containers_.List(ns, filters);
}

grpc::Status ContainersService::Get(grpc::ServerContext* ctx,
                                    const containersapi::GetContainerRequest* req,
                                    containersapi::GetContainerResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto c = containers_.Get(*ns, req->id());
  if (!c.ok()) return ToGrpc(c.status());
  ToProto(*c, resp->mutable_container());
  return grpc::Status::OK;
}

grpc::Status ContainersService::List(grpc::ServerContext* ctx,
                                     const containersapi::ListContainersRequest* req,
                                     containersapi::ListContainersResponse* resp) {
  auto all = ListAll(*ctx, *req);
  if (!all.ok()) return ToGrpc(all.status());
  for (const auto& c : *all) ToProto(c, resp->add_containers());
  return grpc::Status::OK;
}

grpc::Status ContainersService::ListStream(
    grpc::ServerContext* ctx, const containersapi::ListContainersRequest* req,
    grpc::ServerWriter<containersapi::ListContainerMessage>* writer) {
  // One read transaction, then the sends: a slow reader never holds the DB.
  auto all = ListAll(*ctx, *req);
  if (!all.ok()) return ToGrpc(all.status());
  containersapi::ListContainerMessage msg;
  for (const auto& c : *all) {
    if (ctx->IsCancelled()) return grpc::Status::OK;  // as containerd: a gone client is no error
    msg.Clear();
    ToProto(c, msg.mutable_container());
    if (!writer->Write(msg)) return grpc::Status::OK;
  }
  return grpc::Status::OK;
}

grpc::Status ContainersService::Create(grpc::ServerContext* ctx,
                                       const containersapi::CreateContainerRequest* req,
                                       containersapi::CreateContainerResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto created = containers_.Create(*ns, FromProto(req->container()));
  if (!created.ok()) return ToGrpc(created.status());
  ToProto(*created, resp->mutable_container());
  return grpc::Status::OK;
}

grpc::Status ContainersService::Update(grpc::ServerContext* ctx,
                                       const containersapi::UpdateContainerRequest* req,
                                       containersapi::UpdateContainerResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (req->container().id().empty()) return ToGrpc(InvalidArgument("Container.ID required"));
  std::vector<std::string> paths;
  if (req->has_update_mask()) {
    paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
  }
  auto updated = containers_.Update(*ns, FromProto(req->container()), paths);
  if (!updated.ok()) return ToGrpc(updated.status());
  ToProto(*updated, resp->mutable_container());
  return grpc::Status::OK;
}

grpc::Status ContainersService::Delete(grpc::ServerContext* ctx,
                                       const containersapi::DeleteContainerRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  return ToGrpc(containers_.Delete(*ns, req->id()));
}

}  // namespace berth::services
