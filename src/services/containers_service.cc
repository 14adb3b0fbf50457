#include "services/containers_service.h"

#include "common/container_proto.h"
#include "common/logging.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

// The client's timestamps are not taken: the store sets them.
metadata::Container ContainersService::FromProto(const containersapi::Container& c) {
  return ContainerFromProto(c);
}

void ContainersService::ToProto(const metadata::Container& c, containersapi::Container* out) {
  ContainerToProto(c, out);
  *out->mutable_created_at() = berth::ToProto(c.created_at);
  *out->mutable_updated_at() = berth::ToProto(c.updated_at);
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
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto c, containers_.Get(ns, req->id()));
    ToProto(c, resp->mutable_container());
    return {};
  });
}

grpc::Status ContainersService::List(grpc::ServerContext* ctx,
                                     const containersapi::ListContainersRequest* req,
                                     containersapi::ListContainersResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto all, ListAll(*ctx, *req));
    for (const auto& c : all) ToProto(c, resp->add_containers());
    return {};
  });
}

grpc::Status ContainersService::ListStream(
    grpc::ServerContext* ctx, const containersapi::ListContainersRequest* req,
    grpc::ServerWriter<containersapi::ListContainerMessage>* writer) {
  return Serve([&]() -> Reply {
    // One read transaction, then the sends: a slow reader never holds the DB.
    BERTH_ASSIGN_OR_RETURN(auto all, ListAll(*ctx, *req));
    containersapi::ListContainerMessage msg;
    for (const auto& c : all) {
      if (ctx->IsCancelled()) return {};  // as containerd: a gone client is no error
      msg.Clear();
      ToProto(c, msg.mutable_container());
      if (!writer->Write(msg)) return {};
    }
    return {};
  });
}

grpc::Status ContainersService::Create(grpc::ServerContext* ctx,
                                       const containersapi::CreateContainerRequest* req,
                                       containersapi::CreateContainerResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto created, containers_.Create(ns, FromProto(req->container())));
    ToProto(created, resp->mutable_container());
    return {};
  });
}

grpc::Status ContainersService::Update(grpc::ServerContext* ctx,
                                       const containersapi::UpdateContainerRequest* req,
                                       containersapi::UpdateContainerResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    if (req->container().id().empty()) return InvalidArgument("Container.ID required");
    std::vector<std::string> paths;
    if (req->has_update_mask()) {
      paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
    }
    BERTH_ASSIGN_OR_RETURN(auto updated, containers_.Update(ns, FromProto(req->container()), paths));
    ToProto(updated, resp->mutable_container());
    return {};
  });
}

grpc::Status ContainersService::Delete(grpc::ServerContext* ctx,
                                       const containersapi::DeleteContainerRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    return containers_.Delete(ns, req->id());
  });
}

}  // namespace berth::services
