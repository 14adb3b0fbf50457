// containerd.services.diff.v1.Diff over the walking differ (containerd 1.6's
// services/diff/local.go): Apply unpacks a layer blob of the caller's namespace onto mounts,
// Diff writes the changeset between two mount lists into the content store (under the
// request's lease, with its labels and containerd.io/uncompressed). Payloads (stream
// processor configuration, e.g. for encrypted layers) are accepted and ignored.
#pragma once

#include "diff/differ.h"
#include "github.com/containerd/containerd/api/services/diff/v1/diff.grpc.pb.h"

namespace berth::services {

namespace diffapi = containerd::services::diff::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class DiffService final : public diffapi::Diff::Service {
 public:
  explicit DiffService(diff::Differ& differ) : differ_(differ) {}

  grpc::Status Apply(grpc::ServerContext* ctx, const diffapi::ApplyRequest* req,
                     diffapi::ApplyResponse* resp) override;
  grpc::Status Diff(grpc::ServerContext* ctx, const diffapi::DiffRequest* req,
                    diffapi::DiffResponse* resp) override;

 private:
  diff::Differ& differ_;
};

}  // namespace berth::services
