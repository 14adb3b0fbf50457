#include "services/snapshots_service.h"

#include "common/logging.h"
#include "common/timeutil.h"
#include "github.com/containerd/containerd/api/events/snapshot.pb.h"
#include "mount/mount_proto.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

template <typename Mounts>
void AddMounts(const std::vector<mount::Mount>& mounts, Mounts* out) {
  for (const auto& m : mounts) mount::ToProto(m, out->Add());
}

template <typename Map>
labels::Labels LabelsOf(const Map& m) {
  return labels::Labels(m.begin(), m.end());
}

// What every request needs: its namespace and its snapshotter.
struct Target {
  std::string ns;
  snapshots::Snapshotter* sn = nullptr;
};

// ctr and the Go client send the list in blocks of 100 infos.
constexpr int kListBlock = 100;

}  // namespace

Result<snapshots::Snapshotter*> SnapshotsService::Find(std::string_view name) const {
  if (name.empty()) return InvalidArgument("snapshotter argument missing");
  auto it = snapshotters_.find(name);
  if (it == snapshotters_.end()) return InvalidArgument("snapshotter not loaded: {}", name);
  return it->second;
}

void SnapshotsService::ToProto(const snapshots::Info& info, snapshotsapi::Info* out) {
  out->set_name(info.name);
  out->set_parent(info.parent);
  out->set_kind(static_cast<snapshotsapi::Kind>(info.kind));
  *out->mutable_created_at() = berth::ToProto(info.created_at);
  *out->mutable_updated_at() = berth::ToProto(info.updated_at);
  for (const auto& [k, v] : info.labels) (*out->mutable_labels())[k] = v;
}

snapshots::Info SnapshotsService::FromProto(const snapshotsapi::Info& info) {
  snapshots::Info out;
  out.name = info.name();
  out.parent = info.parent();
  out.kind = static_cast<snapshots::Kind>(info.kind());
  out.labels = LabelsOf(info.labels());
  return out;
}

void SnapshotsService::PublishEvent(const std::string& ns, std::string_view topic,
                                    const google::protobuf::Message& event) {
  Status st = publisher_.Publish(ns, topic, event);
  if (!st.ok()) {
    log::Warn("publish snapshot event", {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
  }
}

#define BERTH_SNAPSHOT_TARGET(var, ctx, snapshotter)              \
  Target var;                                                     \
  {                                                               \
    auto ns_ = RequireNamespace(*(ctx));                          \
    if (!ns_.ok()) return ToGrpc(ns_.status());                   \
    auto sn_ = Find(snapshotter);                                 \
    if (!sn_.ok()) return ToGrpc(sn_.status());                   \
    var = Target{std::move(ns_).value(), *sn_};                   \
  }

grpc::Status SnapshotsService::Prepare(grpc::ServerContext* ctx, const snapshotsapi::PrepareSnapshotRequest* req,
                                       snapshotsapi::PrepareSnapshotResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
  auto mounts = t.sn->Prepare(t.ns, req->key(), req->parent(), opts);
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, resp->mutable_mounts());
  containerd::events::SnapshotPrepare event;
  event.set_key(req->key());
  event.set_parent(req->parent());
  PublishEvent(t.ns, "/snapshot/prepare", event);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::View(grpc::ServerContext* ctx, const snapshotsapi::ViewSnapshotRequest* req,
                                    snapshotsapi::ViewSnapshotResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
  auto mounts = t.sn->View(t.ns, req->key(), req->parent(), opts);
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, resp->mutable_mounts());
  // No event: containerd's event wrapper publishes for Prepare, Commit and Remove only.
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext* ctx, const snapshotsapi::MountsRequest* req,
                                      snapshotsapi::MountsResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  auto mounts = t.sn->Mounts(t.ns, req->key());
  if (!mounts.ok()) return ToGrpc(mounts.status());
  AddMounts(*mounts, resp->mutable_mounts());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext* ctx, const snapshotsapi::CommitSnapshotRequest* req,
                                      google::protobuf::Empty* /*resp*/) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
  Status st = t.sn->Commit(t.ns, req->name(), req->key(), opts);
  if (!st.ok()) return ToGrpc(st);
  containerd::events::SnapshotCommit event;
  event.set_key(req->key());
  event.set_name(req->name());
  PublishEvent(t.ns, "/snapshot/commit", event);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext* ctx, const snapshotsapi::RemoveSnapshotRequest* req,
                                      google::protobuf::Empty* /*resp*/) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  Status st = t.sn->Remove(t.ns, req->key());
  if (!st.ok()) return ToGrpc(st);
  containerd::events::SnapshotRemove event;
  event.set_key(req->key());
  PublishEvent(t.ns, "/snapshot/remove", event);
  gc_.Schedule();  // what the snapshot referenced (gc.ref labels, its parent) may now be unreferenced
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext* ctx, const snapshotsapi::StatSnapshotRequest* req,
                                    snapshotsapi::StatSnapshotResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  auto info = t.sn->Stat(t.ns, req->key());
  if (!info.ok()) return ToGrpc(info.status());
  ToProto(*info, resp->mutable_info());
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Update(grpc::ServerContext* ctx, const snapshotsapi::UpdateSnapshotRequest* req,
                                      snapshotsapi::UpdateSnapshotResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  std::vector<std::string> paths;
  if (req->has_update_mask()) paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
  auto info = t.sn->Update(t.ns, FromProto(req->info()), paths);
  if (!info.ok()) return ToGrpc(info.status());
  ToProto(*info, resp->mutable_info());
  log::Info("snapshot updated", {{"snapshotter", t.sn->name()}, {"namespace", t.ns}, {"key", info->name}});
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::List(grpc::ServerContext* ctx, const snapshotsapi::ListSnapshotsRequest* req,
                                    grpc::ServerWriter<snapshotsapi::ListSnapshotsResponse>* writer) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  std::vector<std::string> filters(req->filters().begin(), req->filters().end());
  snapshotsapi::ListSnapshotsResponse block;
  Status st = t.sn->Walk(t.ns, filters, [&](const snapshots::Info& info) -> Status {
    ToProto(info, block.add_info());
    if (block.info_size() >= kListBlock) {
      if (!writer->Write(block)) return Status(Errc::kCanceled, "list snapshots: client went away");
      block.Clear();
    }
    return Status::Ok();
  });
  if (!st.ok()) return ToGrpc(st);
  if (block.info_size() > 0 && !writer->Write(block)) {
    return ToGrpc(Status(Errc::kCanceled, "list snapshots: client went away"));
  }
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext* ctx, const snapshotsapi::UsageRequest* req,
                                     snapshotsapi::UsageResponse* resp) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  auto usage = t.sn->Usage(t.ns, req->key());
  if (!usage.ok()) return ToGrpc(usage.status());
  resp->set_size(usage->size);
  resp->set_inodes(usage->inodes);
  return grpc::Status::OK;
}

grpc::Status SnapshotsService::Cleanup(grpc::ServerContext* ctx, const snapshotsapi::CleanupRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  BERTH_SNAPSHOT_TARGET(t, ctx, req->snapshotter());
  return ToGrpc(t.sn->Cleanup());
}

#undef BERTH_SNAPSHOT_TARGET

}  // namespace berth::services
