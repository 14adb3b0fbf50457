// containerd.services.leases.v1.Leases over the metadata DB (containerd 1.6's
// services/leases): Create makes a random id when none is given; Delete with `sync`
// returns only after a garbage collection. Leases publish no events (as in containerd).
#pragma once

#include "github.com/containerd/containerd/api/services/leases/v1/leases.grpc.pb.h"
#include "metadata/db.h"
#include "metadata/leases.h"
#include "services/gc_hook.h"

namespace berth::services {

namespace leasesapi = containerd::services::leases::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class LeasesService final : public leasesapi::Leases::Service {
 public:
  LeasesService(metadata::Db& db, GarbageCollector& gc) : db_(db), gc_(gc) {}

  grpc::Status Create(grpc::ServerContext* ctx, const leasesapi::CreateRequest* req,
                      leasesapi::CreateResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const leasesapi::DeleteRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const leasesapi::ListRequest* req,
                    leasesapi::ListResponse* resp) override;
  grpc::Status AddResource(grpc::ServerContext* ctx, const leasesapi::AddResourceRequest* req,
                           google::protobuf::Empty* resp) override;
  grpc::Status DeleteResource(grpc::ServerContext* ctx, const leasesapi::DeleteResourceRequest* req,
                              google::protobuf::Empty* resp) override;
  grpc::Status ListResources(grpc::ServerContext* ctx, const leasesapi::ListResourcesRequest* req,
                             leasesapi::ListResourcesResponse* resp) override;

 private:
  metadata::Db& db_;
  GarbageCollector& gc_;
};

}  // namespace berth::services
