// containerd.services.snapshots.v1.Snapshots over the snapshotters (containerd 1.6's
// services/snapshots with the metadata layer's namespacing): the snapshotter is picked by
// name per request (InvalidArgument `snapshotter not loaded: x` when unknown, `snapshotter
// argument missing` when empty); snapshots created under the request's lease
// (`containerd-lease`) are held by it; events /snapshot/prepare|commit|remove after commit.
#pragma once

#include <map>
#include <string>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "services/gc_hook.h"
#include "snapshots/snapshotter.h"

namespace berth::services {

namespace snapshotsapi = containerd::services::snapshots::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; the snapshotter map is
// fixed at construction and the rest are references to thread-safe components.
class SnapshotsService final : public snapshotsapi::Snapshots::Service {
 public:
  using Snapshotters = std::map<std::string, snapshots::Snapshotter*, std::less<>>;

  SnapshotsService(Snapshotters snapshotters, events::Publisher& publisher, GarbageCollector& gc)
      : snapshotters_(std::move(snapshotters)), publisher_(publisher), gc_(gc) {}

  grpc::Status Prepare(grpc::ServerContext* ctx, const snapshotsapi::PrepareSnapshotRequest* req,
                       snapshotsapi::PrepareSnapshotResponse* resp) override;
  grpc::Status View(grpc::ServerContext* ctx, const snapshotsapi::ViewSnapshotRequest* req,
                    snapshotsapi::ViewSnapshotResponse* resp) override;
  grpc::Status Mounts(grpc::ServerContext* ctx, const snapshotsapi::MountsRequest* req,
                      snapshotsapi::MountsResponse* resp) override;
  grpc::Status Commit(grpc::ServerContext* ctx, const snapshotsapi::CommitSnapshotRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status Remove(grpc::ServerContext* ctx, const snapshotsapi::RemoveSnapshotRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status Stat(grpc::ServerContext* ctx, const snapshotsapi::StatSnapshotRequest* req,
                    snapshotsapi::StatSnapshotResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const snapshotsapi::UpdateSnapshotRequest* req,
                      snapshotsapi::UpdateSnapshotResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const snapshotsapi::ListSnapshotsRequest* req,
                    grpc::ServerWriter<snapshotsapi::ListSnapshotsResponse>* writer) override;
  grpc::Status Usage(grpc::ServerContext* ctx, const snapshotsapi::UsageRequest* req,
                     snapshotsapi::UsageResponse* resp) override;
  grpc::Status Cleanup(grpc::ServerContext* ctx, const snapshotsapi::CleanupRequest* req,
                       google::protobuf::Empty* resp) override;

  // API <-> snapshotter conversions (public for tests).
  static void ToProto(const snapshots::Info& info, snapshotsapi::Info* out);
  static snapshots::Info FromProto(const snapshotsapi::Info& info);

 private:
  Result<snapshots::Snapshotter*> Find(std::string_view name) const;
  void PublishEvent(const std::string& ns, std::string_view topic, const google::protobuf::Message& event);

  Snapshotters snapshotters_;
  events::Publisher& publisher_;
  GarbageCollector& gc_;
};

}  // namespace berth::services
