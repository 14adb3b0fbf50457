#include "services/diff_service.h"

#include "common/descriptor_proto.h"
#include "mount/mount_proto.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

grpc::Status DiffService::Apply(grpc::ServerContext* ctx, const diffapi::ApplyRequest* req,
                                diffapi::ApplyResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto applied,
                           differ_.Apply(scope, DescriptorFromProto(req->diff()), mount::FromProto(req->mounts())));
    DescriptorToProto(applied, resp->mutable_applied());
    return {};
  });
}

grpc::Status DiffService::Diff(grpc::ServerContext* ctx, const diffapi::DiffRequest* req,
                               diffapi::DiffResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(metadata::ContentScope scope, ContentScopeOf(*ctx));
    diff::CompareOptions opts;
    opts.media_type = req->media_type();
    opts.ref = req->ref();
    opts.labels = labels::Labels(req->labels().begin(), req->labels().end());
    BERTH_ASSIGN_OR_RETURN(auto layer,
                           differ_.Compare(scope, mount::FromProto(req->left()), mount::FromProto(req->right()), opts));
    DescriptorToProto(layer, resp->mutable_diff());
    return {};
  });
}

}  // namespace berth::services
