#include "services/containers_service.h"

#include "common/logging.h"
#include "github.com/containerd/containerd/api/events/container.pb.h"
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

void ContainersService::PublishEvent(const std::string& ns, std::string_view topic,
                                     const google::protobuf::Message& event) {
  Status st = publisher_.Publish(ns, topic, event);
  if (!st.ok()) {
    log::Warn("publish container event",
              {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
  }
}

Result<std::vector<metadata::Container>> ContainersService::ListAll(
    const grpc::ServerContext& ctx, const containersapi::ListContainersRequest& req) {
  BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(ctx));
  std::vector<std::string> filters(req.filters().begin(), req.filters().end());
  std::vector<metadata::Container> all;
  BERTH_RETURN_IF_ERROR(db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(all, metadata::containers::List(tx, ns, filters));
    return Status::Ok();
  }));
  return all;
}

grpc::Status ContainersService::Get(grpc::ServerContext* ctx,
                                    const containersapi::GetContainerRequest* req,
                                    containersapi::GetContainerResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  Status st = db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto c, metadata::containers::Get(tx, *ns, req->id()));
    ToProto(c, resp->mutable_container());
    return Status::Ok();
  });
  return ToGrpc(st);
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
  metadata::Container created;
  Status st = db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(created, metadata::containers::Create(tx, *ns, FromProto(req->container())));
    return Status::Ok();
  });
  if (!st.ok()) return ToGrpc(st);
  ToProto(created, resp->mutable_container());
  log::Info("container created", {{"namespace", *ns}, {"id", created.id},
                                  {"runtime", created.runtime.name}, {"image", created.image}});

  containerd::events::ContainerCreate event;
  event.set_id(created.id);
  event.set_image(created.image);
  event.mutable_runtime()->set_name(created.runtime.name);
  if (created.runtime.options) *event.mutable_runtime()->mutable_options() = *created.runtime.options;
  PublishEvent(*ns, "/containers/create", event);
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
  metadata::Container updated;
  Status st = db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(
        updated, metadata::containers::Update(tx, *ns, FromProto(req->container()), paths));
    return Status::Ok();
  });
  if (!st.ok()) return ToGrpc(st);
  ToProto(updated, resp->mutable_container());
  log::Info("container updated", {{"namespace", *ns}, {"id", updated.id}});

  containerd::events::ContainerUpdate event;
  event.set_id(updated.id);
  event.set_image(updated.image);
  *event.mutable_labels() = resp->container().labels();
  event.set_snapshot_key(updated.snapshot_key);
  PublishEvent(*ns, "/containers/update", event);
  return grpc::Status::OK;
}

grpc::Status ContainersService::Delete(grpc::ServerContext* ctx,
                                       const containersapi::DeleteContainerRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  Status st = db_.Update([&](metadata::Tx& tx) {
    return metadata::containers::Delete(tx, *ns, req->id());
  });
  if (!st.ok()) return ToGrpc(st);
  log::Info("container deleted", {{"namespace", *ns}, {"id", req->id()}});

  containerd::events::ContainerDelete event;
  event.set_id(req->id());
  PublishEvent(*ns, "/containers/delete", event);
  gc_.Schedule();  // its snapshot and image may now be unreferenced
  return grpc::Status::OK;
}

}  // namespace berth::services
