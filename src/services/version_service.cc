#include "services/version_service.h"

namespace berth::services {

grpc::Status VersionService::Version(grpc::ServerContext* /*ctx*/,
                                     const google::protobuf::Empty* /*req*/,
                                     containerd::services::version::v1::VersionResponse* resp) {
  resp->set_version(BERTH_VERSION);
  resp->set_revision(BERTH_REVISION);
  return grpc::Status::OK;
}

}  // namespace berth::services
