// Client: the snapshots service.
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"
#include "mount/mount_proto.h"

namespace berth::client {
namespace {

SnapshotInfo SnapshotInfoFromProto(const snapshotsv1::Info& info) {
  return SnapshotInfo{info.name(),
                      info.parent(),
                      static_cast<SnapshotKind>(info.kind()),
                      LabelsOf(info.labels()),
                      TimeOf(info.has_created_at(), info.created_at()),
                      TimeOf(info.has_updated_at(), info.updated_at())};
}

}  // namespace

Result<std::vector<Mount>> Client::PrepareSnapshot(const std::string& snapshotter,
                                                   const std::string& key,
                                                   const std::string& parent,
                                                   const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::PrepareSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  request.set_parent(parent);
  SetLabels(labels, request.mutable_labels());
  snapshotsv1::PrepareSnapshotResponse response;
  grpc::Status status = stubs_->snapshots->Prepare(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return mount::FromProto(response.mounts());
}

Result<std::vector<Mount>> Client::ViewSnapshot(const std::string& snapshotter,
                                                const std::string& key, const std::string& parent,
                                                const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::ViewSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  request.set_parent(parent);
  SetLabels(labels, request.mutable_labels());
  snapshotsv1::ViewSnapshotResponse response;
  grpc::Status status = stubs_->snapshots->View(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return mount::FromProto(response.mounts());
}

Result<std::vector<Mount>> Client::SnapshotMounts(const std::string& snapshotter,
                                                  const std::string& key) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::MountsRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  snapshotsv1::MountsResponse response;
  grpc::Status status = stubs_->snapshots->Mounts(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return mount::FromProto(response.mounts());
}

Status Client::CommitSnapshot(const std::string& snapshotter, const std::string& name,
                              const std::string& key, const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::CommitSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_name(name);
  request.set_key(key);
  SetLabels(labels, request.mutable_labels());
  google::protobuf::Empty response;
  return FromGrpc(stubs_->snapshots->Commit(&context, request, &response));
}

Status Client::RemoveSnapshot(const std::string& snapshotter, const std::string& key) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::RemoveSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->snapshots->Remove(&context, request, &response));
}

Result<SnapshotInfo> Client::StatSnapshot(const std::string& snapshotter,
                                          const std::string& key) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::StatSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  snapshotsv1::StatSnapshotResponse response;
  grpc::Status status = stubs_->snapshots->Stat(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return SnapshotInfoFromProto(response.info());
}

Result<SnapshotInfo> Client::UpdateSnapshotLabels(const std::string& snapshotter,
                                                  const std::string& key,
                                                  const labels::Labels& labels,
                                                  const std::vector<std::string>& paths) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::UpdateSnapshotRequest request;
  request.set_snapshotter(snapshotter);
  request.mutable_info()->set_name(key);
  SetLabels(labels, request.mutable_info()->mutable_labels());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  snapshotsv1::UpdateSnapshotResponse response;
  grpc::Status status = stubs_->snapshots->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return SnapshotInfoFromProto(response.info());
}

Result<std::vector<SnapshotInfo>> Client::ListSnapshots(
    const std::string& snapshotter, const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::ListSnapshotsRequest request;
  request.set_snapshotter(snapshotter);
  for (const auto& f : filters) request.add_filters(f);
  auto reader = stubs_->snapshots->List(&context, request);
  std::vector<SnapshotInfo> out;
  snapshotsv1::ListSnapshotsResponse block;
  while (reader->Read(&block)) {
    for (const auto& info : block.info()) out.push_back(SnapshotInfoFromProto(info));
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpc(status);
  return out;
}

Result<SnapshotUsage> Client::GetSnapshotUsage(const std::string& snapshotter,
                                               const std::string& key) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  snapshotsv1::UsageRequest request;
  request.set_snapshotter(snapshotter);
  request.set_key(key);
  snapshotsv1::UsageResponse response;
  grpc::Status status = stubs_->snapshots->Usage(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return SnapshotUsage{response.size(), response.inodes()};
}

}  // namespace berth::client
