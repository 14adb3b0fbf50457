#include "services/leases_service.h"

#include "common/logging.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

void ToProto(const metadata::Lease& lease, leasesapi::Lease* out) {
  out->set_id(lease.id);
  for (const auto& [k, v] : lease.labels) (*out->mutable_labels())[k] = v;
  *out->mutable_created_at() = berth::ToProto(lease.created_at);
}

metadata::lease_resources::Resource FromProto(const leasesapi::Resource& r) {
  return {r.type(), r.id()};
}

}  // namespace

grpc::Status LeasesService::Create(grpc::ServerContext* ctx, const leasesapi::CreateRequest* req,
                                   leasesapi::CreateResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    metadata::Lease lease{req->id(), labels::Labels(req->labels().begin(), req->labels().end()), {}};
    if (lease.id.empty()) lease.id = metadata::leases::RandomId();
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(lease, metadata::leases::Create(tx, ns, lease));
      return Status::Ok();
    }));
    ToProto(lease, resp->mutable_lease());
    log::Debug("lease created", {{"namespace", ns}, {"id", lease.id}});
    return {};
  });
}

grpc::Status LeasesService::Delete(grpc::ServerContext* ctx, const leasesapi::DeleteRequest* req,
                                   google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) { return metadata::leases::Delete(tx, ns, req->id()); }));
    log::Debug("lease deleted", {{"namespace", ns}, {"id", req->id()}, {"sync", req->sync()}});
    if (req->sync()) return gc_.CollectNow();
    gc_.Schedule();
    return {};
  });
}

grpc::Status LeasesService::List(grpc::ServerContext* ctx, const leasesapi::ListRequest* req,
                                 leasesapi::ListResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    std::vector<std::string> filters(req->filters().begin(), req->filters().end());
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto all, metadata::leases::List(tx, ns, filters));
      for (const auto& lease : all) ToProto(lease, resp->add_leases());
      return Status::Ok();
    });
  });
}

grpc::Status LeasesService::AddResource(grpc::ServerContext* ctx,
                                        const leasesapi::AddResourceRequest* req,
                                        google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    return db_.Update([&](metadata::Tx& tx) {
      return metadata::leases::AddResource(tx, ns, req->id(), FromProto(req->resource()));
    });
  });
}

grpc::Status LeasesService::DeleteResource(grpc::ServerContext* ctx,
                                           const leasesapi::DeleteResourceRequest* req,
                                           google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) {
      return metadata::leases::DeleteResource(tx, ns, req->id(), FromProto(req->resource()));
    }));
    gc_.Schedule();  // what the lease held may now be unreferenced (containerd marks dirty)
    return {};
  });
}

grpc::Status LeasesService::ListResources(grpc::ServerContext* ctx,
                                          const leasesapi::ListResourcesRequest* req,
                                          leasesapi::ListResourcesResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto all, metadata::leases::ListResources(tx, ns, req->id()));
      for (const auto& r : all) {
        auto* out = resp->add_resources();
        out->set_id(r.id);
        out->set_type(r.type);
      }
      return Status::Ok();
    });
  });
}

}  // namespace berth::services
