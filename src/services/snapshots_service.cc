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

grpc::Status SnapshotsService::Prepare(grpc::ServerContext* ctx, const snapshotsapi::PrepareSnapshotRequest* req,
                                       snapshotsapi::PrepareSnapshotResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
    BERTH_ASSIGN_OR_RETURN(auto mounts, sn->Prepare(ns, req->key(), req->parent(), opts));
    AddMounts(mounts, resp->mutable_mounts());
    containerd::events::SnapshotPrepare event;
    event.set_key(req->key());
    event.set_parent(req->parent());
    PublishEvent(ns, "/snapshot/prepare", event);
    return {};
  });
}

grpc::Status SnapshotsService::View(grpc::ServerContext* ctx, const snapshotsapi::ViewSnapshotRequest* req,
                                    snapshotsapi::ViewSnapshotResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
    BERTH_ASSIGN_OR_RETURN(auto mounts, sn->View(ns, req->key(), req->parent(), opts));
    AddMounts(mounts, resp->mutable_mounts());
    // No event: containerd's event wrapper publishes for Prepare, Commit and Remove only.
    return {};
  });
}

grpc::Status SnapshotsService::Mounts(grpc::ServerContext* ctx, const snapshotsapi::MountsRequest* req,
                                      snapshotsapi::MountsResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    BERTH_ASSIGN_OR_RETURN(auto mounts, sn->Mounts(ns, req->key()));
    AddMounts(mounts, resp->mutable_mounts());
    return {};
  });
}

grpc::Status SnapshotsService::Commit(grpc::ServerContext* ctx, const snapshotsapi::CommitSnapshotRequest* req,
                                      google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    snapshots::CreateOptions opts{LabelsOf(req->labels()), LeaseOf(*ctx)};
    BERTH_RETURN_IF_ERROR(sn->Commit(ns, req->name(), req->key(), opts));
    containerd::events::SnapshotCommit event;
    event.set_key(req->key());
    event.set_name(req->name());
    PublishEvent(ns, "/snapshot/commit", event);
    return {};
  });
}

grpc::Status SnapshotsService::Remove(grpc::ServerContext* ctx, const snapshotsapi::RemoveSnapshotRequest* req,
                                      google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    BERTH_RETURN_IF_ERROR(sn->Remove(ns, req->key()));
    containerd::events::SnapshotRemove event;
    event.set_key(req->key());
    PublishEvent(ns, "/snapshot/remove", event);
    gc_.Schedule();  // what the snapshot referenced (gc.ref labels, its parent) may now be unreferenced
    return {};
  });
}

grpc::Status SnapshotsService::Stat(grpc::ServerContext* ctx, const snapshotsapi::StatSnapshotRequest* req,
                                    snapshotsapi::StatSnapshotResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    BERTH_ASSIGN_OR_RETURN(auto info, sn->Stat(ns, req->key()));
    ToProto(info, resp->mutable_info());
    return {};
  });
}

grpc::Status SnapshotsService::Update(grpc::ServerContext* ctx, const snapshotsapi::UpdateSnapshotRequest* req,
                                      snapshotsapi::UpdateSnapshotResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    std::vector<std::string> paths;
    if (req->has_update_mask()) paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
    BERTH_ASSIGN_OR_RETURN(auto info, sn->Update(ns, FromProto(req->info()), paths));
    ToProto(info, resp->mutable_info());
    log::Info("snapshot updated", {{"snapshotter", sn->name()}, {"namespace", ns}, {"key", info.name}});
    return {};
  });
}

grpc::Status SnapshotsService::List(grpc::ServerContext* ctx, const snapshotsapi::ListSnapshotsRequest* req,
                                    grpc::ServerWriter<snapshotsapi::ListSnapshotsResponse>* writer) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    std::vector<std::string> filters(req->filters().begin(), req->filters().end());
    snapshotsapi::ListSnapshotsResponse block;
    BERTH_RETURN_IF_ERROR(sn->Walk(ns, filters, [&](const snapshots::Info& info) -> Status {
      ToProto(info, block.add_info());
      if (block.info_size() >= kListBlock) {
        if (!writer->Write(block)) return Status(Errc::kCanceled, "list snapshots: client went away");
        block.Clear();
      }
      return Status::Ok();
    }));
    if (block.info_size() > 0 && !writer->Write(block)) {
      return Status(Errc::kCanceled, "list snapshots: client went away");
    }
    return {};
  });
}

grpc::Status SnapshotsService::Usage(grpc::ServerContext* ctx, const snapshotsapi::UsageRequest* req,
                                     snapshotsapi::UsageResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    BERTH_ASSIGN_OR_RETURN(auto usage, sn->Usage(ns, req->key()));
    resp->set_size(usage.size);
    resp->set_inodes(usage.inodes);
    return {};
  });
}

grpc::Status SnapshotsService::Cleanup(grpc::ServerContext* ctx, const snapshotsapi::CleanupRequest* req,
                                       google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_RETURN_IF_ERROR(RequireNamespace(*ctx).status());
    BERTH_ASSIGN_OR_RETURN(snapshots::Snapshotter* sn, Find(req->snapshotter()));
    return sn->Cleanup();
  });
}

}  // namespace berth::services
