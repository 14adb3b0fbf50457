#include "client/checkpoint.h"


#include <sstream>

#include "checkpoint/media_types.h"
#include "client/image_parts.h"
#include "client/temp_lease.h"
#include "client/typeurl.h"
#include "common/logging.h"
#include "common/random_hex.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "images/checkpoint_index.h"
#include "images/rootfs.h"
#include "images/walk.h"

namespace berth::client {
namespace {

namespace ck = berth::checkpoint;

constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";

Result<Descriptor> WriteBlob(Client& client, const std::string& media_type, const std::string& ref,
                             const std::string& data, const labels::Labels& labels = {}) {
  std::istringstream in(data);
  ContentWriteRequest req;
  req.ref = ref;
  req.expected = images::Sha256Digest(data);
  req.size = static_cast<int64_t>(data.size());
  req.labels = labels;
  auto written = client.WriteContent(in, req);
  if (!written.ok() && !written.status().Is(Errc::kAlreadyExists)) return written.status();
  return Descriptor{media_type, req.expected, req.size, {}};
}

std::string RandomSuffix() { return RandomHex(4); }

// containerd's rootfs.CreateDiff: the snapshot against a view of its parent.
Result<Descriptor> RwLayer(Client& client, const Container& c) {
  BERTH_ASSIGN_OR_RETURN(SnapshotInfo info, client.StatSnapshot(c.snapshotter, c.snapshot_key));
  const std::string view = c.snapshot_key + "-parent-view-" + RandomSuffix();
  BERTH_ASSIGN_OR_RETURN(auto lower, client.ViewSnapshot(c.snapshotter, view, info.parent));
  auto upper = client.SnapshotMounts(c.snapshotter, c.snapshot_key);
  Result<Descriptor> out = upper.ok() ? client.CompareDiff(lower, *upper, "", "checkpoint-rw-" + c.snapshot_key)
                                      : Result<Descriptor>(upper.status());
  if (Status st = client.RemoveSnapshot(c.snapshotter, view); !st.ok()) {
    log::Warn("removing the parent view", {{"key", view}, {"error", st.ToString()}});
  }
  return out;
}

images::IndexEntry EntryOf(const Descriptor& d, bool with_platform) {
  return images::IndexEntry{d.media_type, d.digest, d.size, d.annotations, with_platform};
}

Descriptor DescriptorOf(const images::IndexEntry& e) { return Descriptor{e.media_type, e.digest, e.size, e.annotations}; }

Result<images::CheckpointIndex> ReadIndex(Client& client, const Image& image) {
  if (!images::IsIndexType(image.target.media_type)) {
    return InvalidArgument("{} is not a checkpoint (its target is {})", image.name, image.target.media_type);
  }
  BERTH_ASSIGN_OR_RETURN(std::string blob, client.ReadContentBlob(image.target.digest));
  auto index = images::DecodeCheckpointIndex(blob);
  if (!index.ok()) return index.status().Wrap(image.name);
  return index;
}

std::string Annotation(const images::CheckpointIndex& index, const char* key) {
  auto it = index.annotations.find(key);
  return it == index.annotations.end() ? "" : it->second;
}

Result<google::protobuf::Any> ReadAnyBlob(Client& client, const images::IndexEntry& d, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::string data, client.ReadContentBlob(d.digest));
  google::protobuf::Any any;
  if (!any.ParseFromString(data)) return InvalidArgument("unable to read checkpoint {}: not a protobuf Any", what);
  return any;
}

// The base image, from the store or — when the checkpoint carries its target — made from it.
Result<ImageParts> BaseImage(Client& client, const images::CheckpointIndex& index, const std::string& name) {
  auto parts = LoadImage(client, name, images::HostPlatform());
  if (parts.ok() || !parts.status().Is(Errc::kNotFound)) return parts;
  for (const auto& d : index.manifests) {
    if (!images::IsIndexType(d.media_type) && !images::IsManifestType(d.media_type)) continue;
    Image image;
    image.name = name;
    image.target = DescriptorOf(d);
    image.target.annotations.clear();
    if (auto made = client.CreateImage(image); !made.ok() && !made.status().Is(Errc::kAlreadyExists)) {
      return made.status();
    }
    return LoadImage(client, name, images::HostPlatform());
  }
  return parts;
}

}  // namespace

Result<Image> CheckpointContainer(Client& client, const std::string& id, const std::string& ref,
                                  const CheckpointOptions& o) {
  if (ref.empty()) return InvalidArgument("checkpoint of {}: a reference for the checkpoint image is required", id);
  BERTH_ASSIGN_OR_RETURN(Container c, client.GetContainer(id));
  if (auto existing = client.GetImage(ref); existing.ok()) {
    return AlreadyExists("image {:?}", ref);
  } else if (!existing.status().Is(Errc::kNotFound)) {
    return existing.status();
  }
  std::optional<Image> base;
  if (!c.image.empty()) {
    auto image = client.GetImage(c.image);
    if (!image.ok() && (o.image || !image.status().Is(Errc::kNotFound))) return image.status();
    if (image.ok()) base = *image;
  } else if (o.image) {
    return FailedPrecondition("container {} has no image to include", id);
  }
  if (o.rw && c.snapshot_key.empty()) return FailedPrecondition("container {} has no snapshot for --rw", id);

  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  Client& leased = lease.client();
  // The task is paused while its memory and its files are taken, so that they agree (ctr does).
  bool resume = false;
  if (auto task = leased.GetTask(id); task.ok() && task->status == TaskStatus::kRunning) {
    BERTH_RETURN_IF_ERROR(leased.PauseTask(id));
    resume = true;
  } else if (!task.ok() && !task.status().Is(Errc::kNotFound)) {
    return task.status();
  } else if (o.task && !task.ok()) {
    return FailedPrecondition("container {} has no task to checkpoint", id);
  }
  struct Resume {
    Client& client;
    const std::string& id;
    bool* on;
    ~Resume() {
      if (!*on) return;
      if (Status st = client.ResumeTask(id); !st.ok() && !st.Is(Errc::kNotFound) && !st.Is(Errc::kFailedPrecondition)) {
        log::Warn("resuming the task after its checkpoint", {{"id", id}, {"error", st.ToString()}});
      }
    }
  } resume_after{leased, id, &resume};

  images::CheckpointIndex index;
  index.annotations[ck::kAnnotationImageName] = c.image;
  index.annotations[ck::kAnnotationRuntime] = c.runtime.name;
  index.annotations[ck::kAnnotationSnapshotter] = c.snapshotter;
  auto add = [&](const Descriptor& d, bool platform) { index.manifests.push_back(EntryOf(d, platform)); };
  if (c.runtime.options) {
    BERTH_ASSIGN_OR_RETURN(Descriptor d, WriteBlob(leased, ck::kMediaTypeRuntimeOptions, id + "-runtime-options",
                                                   c.runtime.options->SerializeAsString()));
    add(d, true);
  }
  if (o.image) add(base->target, false);
  if (o.rw) {
    BERTH_ASSIGN_OR_RETURN(Descriptor rw, RwLayer(leased, c));
    add(rw, true);
  }
  if (o.task) {
    containerd::runc::v1::CheckpointOptions copts;
    copts.set_exit(o.exit);
    copts.set_open_tcp(o.tcp);
    copts.set_external_unix_sockets(o.unix_sockets);
    copts.set_terminal(o.shell);
    copts.set_file_locks(o.file_locks);
    google::protobuf::Any any = PackAny(copts);
    BERTH_ASSIGN_OR_RETURN(auto blobs, leased.CheckpointTask(id, any));
    if (o.exit) resume = false;  // nothing left to resume
    for (const auto& d : blobs) add(d, true);
    BERTH_ASSIGN_OR_RETURN(Descriptor d, WriteBlob(leased, ck::kMediaTypeOptions, id + "-checkpoint-options",
                                                   any.SerializeAsString()));
    add(d, true);
  }
  BERTH_ASSIGN_OR_RETURN(Descriptor target,
                         WriteBlob(leased, std::string(images::kOciIndex), id + "index",
                                   images::EncodeCheckpointIndex(index, images::HostPlatform()),
                                   images::CheckpointIndexGcLabels(index)));
  Image image;
  image.name = ref;
  image.target = target;
  image.labels = o.labels;
  image.labels[ck::kCheckpointLabel] = "true";
  return leased.CreateImage(image);
}

Result<Restored> RestoreContainer(Client& client, const std::string& id, const std::string& ref,
                                  const RestoreOptions& o) {
  auto image = client.GetImage(ref);
  if (!image.ok()) return image.status().Wrap(fmt::format("checkpoint {}", ref));
  BERTH_ASSIGN_OR_RETURN(images::CheckpointIndex index, ReadIndex(client, *image));
  const std::string base_name = Annotation(index, ck::kAnnotationImageName);
  const std::string snapshotter = Annotation(index, ck::kAnnotationSnapshotter);
  if (base_name.empty()) return InvalidArgument("checkpoint {}: image name not found in index", ref);
  if (snapshotter.empty()) return InvalidArgument("checkpoint {}: snapshotter name not found in index", ref);
  if (!index.annotations.contains(ck::kAnnotationRuntime)) {
    return InvalidArgument("checkpoint {}: runtime name not found in index", ref);
  }
  const images::IndexEntry* config = images::FindEntry(index, ck::kMediaTypeConfig);
  if (config == nullptr) return InvalidArgument("checkpoint {}: it holds no container spec", ref);

  Container c;
  c.id = id;
  c.image = base_name;
  c.snapshotter = snapshotter;
  c.snapshot_key = id;
  c.runtime.name = Annotation(index, ck::kAnnotationRuntime);
  BERTH_ASSIGN_OR_RETURN(c.spec, ReadAnyBlob(client, *config, "config"));
  if (const images::IndexEntry* ro = images::FindEntry(index, ck::kMediaTypeRuntimeOptions)) {
    BERTH_ASSIGN_OR_RETURN(c.runtime.options, ReadAnyBlob(client, *ro, "runtime options"));
  }
  const images::IndexEntry* rw = nullptr;
  if (o.rw) {
    rw = images::FindEntry(index, kLayerGzip);
    if (rw == nullptr) rw = images::FindEntry(index, kLayerTar);
    if (rw == nullptr) return InvalidArgument("checkpoint {} holds no rw layer", ref);
  }

  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  Client& leased = lease.client();
  BERTH_ASSIGN_OR_RETURN(ImageParts base, BaseImage(leased, index, base_name));
  auto mounts = leased.PrepareSnapshot(snapshotter, id, base.chain_id);
  if (!mounts.ok()) return mounts.status().Wrap(fmt::format("snapshot {:?}", id));
  auto fail = [&](const Status& st) -> Status {
    if (Status rm = leased.RemoveSnapshot(snapshotter, id); !rm.ok()) {
      log::Warn("removing the snapshot", {{"key", id}, {"error", rm.ToString()}});
    }
    return st;
  };
  if (rw != nullptr) {
    if (auto applied = leased.ApplyDiff(DescriptorOf(*rw), *mounts); !applied.ok()) {
      return fail(applied.status().Wrap("applying the checkpoint's rw layer"));
    }
  }
  auto created = leased.CreateContainer(c);
  if (!created.ok()) return fail(created.status());
  Restored out;
  out.container = *created;
  if (const images::IndexEntry* criu = images::FindEntry(index, ck::kMediaTypeCriuTar)) out.checkpoint = DescriptorOf(*criu);
  return out;
}

Result<Descriptor> CheckpointCriuImage(Client& client, const std::string& ref) {
  auto image = client.GetImage(ref);
  if (!image.ok()) return image.status().Wrap(fmt::format("checkpoint {}", ref));
  BERTH_ASSIGN_OR_RETURN(images::CheckpointIndex index, ReadIndex(client, *image));
  const images::IndexEntry* criu = images::FindEntry(index, ck::kMediaTypeCriuTar);
  if (criu == nullptr) return FailedPrecondition("checkpoint {} holds no task checkpoint", ref);
  return DescriptorOf(*criu);
}

}  // namespace berth::client
