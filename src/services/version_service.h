// containerd.services.version.v1.Version: the daemon's version and git revision.
#pragma once

#include "github.com/containerd/containerd/api/services/version/v1/version.grpc.pb.h"

namespace berth::services {

// Thread-safe: stateless.
class VersionService final : public containerd::services::version::v1::Version::Service {
 public:
  grpc::Status Version(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                       containerd::services::version::v1::VersionResponse* resp) override;
};

}  // namespace berth::services
