// containerd.services.containers.v1.Containers over control::Containers (containerd 1.6's
// services/containers; shared with the REST API): events /containers/create|update|delete after commit; ListStream
// sends one container per message, for lists larger than a gRPC message.
#pragma once

#include "control/containers.h"
#include "github.com/containerd/containerd/api/services/containers/v1/containers.grpc.pb.h"
#include "metadata/containers.h"

namespace berth::services {

namespace containersapi = containerd::services::containers::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class ContainersService final : public containersapi::Containers::Service {
 public:
  explicit ContainersService(control::Containers& containers) : containers_(containers) {}

  grpc::Status Get(grpc::ServerContext* ctx, const containersapi::GetContainerRequest* req,
                   containersapi::GetContainerResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const containersapi::ListContainersRequest* req,
                    containersapi::ListContainersResponse* resp) override;
  grpc::Status ListStream(grpc::ServerContext* ctx, const containersapi::ListContainersRequest* req,
                          grpc::ServerWriter<containersapi::ListContainerMessage>* writer) override;
  grpc::Status Create(grpc::ServerContext* ctx, const containersapi::CreateContainerRequest* req,
                      containersapi::CreateContainerResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const containersapi::UpdateContainerRequest* req,
                      containersapi::UpdateContainerResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const containersapi::DeleteContainerRequest* req,
                      google::protobuf::Empty* resp) override;

  // API <-> store conversions (public for tests).
  static metadata::Container FromProto(const containersapi::Container& c);
  static void ToProto(const metadata::Container& c, containersapi::Container* out);

 private:
  Result<std::vector<metadata::Container>> ListAll(const grpc::ServerContext& ctx,
                                                   const containersapi::ListContainersRequest& req);
  control::Containers& containers_;
};

}  // namespace berth::services
