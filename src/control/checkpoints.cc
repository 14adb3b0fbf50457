#include "control/checkpoints.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <utility>

#include "images/checkpoint_index.h"
#include "checkpoint/media_types.h"
#include "common/identifiers.h"
#include "common/logging.h"
#include "common/digest.h"
#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "images/walk.h"
#include "metadata/containers.h"
#include "metadata/images.h"
#include "metadata/leases.h"

namespace berth::control {

namespace {

// A checkpoint index is a few hundred bytes; anything this large is not one.
constexpr int64_t kMaxIndexSize = 4 << 20;

Status ValidateName(const std::string& name) { return identifiers::Validate(name).Wrap("checkpoint name"); }

Status NotFoundCheckpoint(const std::string& name, const std::string& container_id) {
  return NotFound("checkpoint {:?} of container {} not found", name, container_id);
}

// The lease a checkpoint is made under (containerd's client.WithLease): it holds every blob
// written until the image record refers to them, expires in a day if berthd dies meanwhile,
// and is deleted (then a collection scheduled) when its owner goes.
class OperationLease {
 public:
  static Result<OperationLease> Create(metadata::Db& db, const std::string& ns, std::function<void()> schedule_gc) {
    metadata::Lease lease;
    lease.id = metadata::leases::RandomId();
    auto expires = std::chrono::time_point_cast<TimePoint::duration>(Clock::now() + std::chrono::hours(24));
    lease.labels[std::string(metadata::leases::kExpireLabel)] = FormatRfc3339(expires);
    BERTH_RETURN_IF_ERROR(db.Update([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(lease, metadata::leases::Create(tx, ns, lease));
      return Status::Ok();
    }));
    return OperationLease(db, ns, lease.id, std::move(schedule_gc));
  }
  OperationLease(OperationLease&& o) noexcept
      : db_(o.db_), ns_(std::move(o.ns_)), id_(std::exchange(o.id_, {})), schedule_gc_(std::move(o.schedule_gc_)) {}
  OperationLease(const OperationLease&) = delete;
  OperationLease& operator=(const OperationLease&) = delete;
  OperationLease& operator=(OperationLease&&) = delete;
  ~OperationLease() {
    if (id_.empty()) return;
    Status st = db_.Update([&](metadata::Tx& tx) { return metadata::leases::Delete(tx, ns_, id_); });
    if (!st.ok()) log::Warn("delete the checkpoint's lease", {{"namespace", ns_}, {"lease", id_}, {"error", st.ToString()}});
    if (schedule_gc_) schedule_gc_();  // what a failed checkpoint wrote is unreferenced now
  }
  const std::string& id() const { return id_; }

 private:
  OperationLease(metadata::Db& db, std::string ns, std::string lease_id, std::function<void()> schedule_gc)
      : db_(db), ns_(std::move(ns)), id_(std::move(lease_id)), schedule_gc_(std::move(schedule_gc)) {}
  metadata::Db& db_;
  std::string ns_;
  std::string id_;  // "" once moved from
  std::function<void()> schedule_gc_;
};

// The image record's labels: the checkpoint label, the container and name, the flags set.
labels::Labels ImageLabels(const std::string& container_id, const std::string& name, const CheckpointFlags& f) {
  labels::Labels out = {{checkpoint::kCheckpointLabel, "true"},
                        {checkpoint::kLabelContainer, container_id},
                        {checkpoint::kLabelName, name}};
  if (f.exit) out[checkpoint::kLabelExit] = "true";
  if (f.tcp) out[checkpoint::kLabelTcp] = "true";
  if (f.unix_sockets) out[checkpoint::kLabelUnixSockets] = "true";
  if (f.shell) out[checkpoint::kLabelShell] = "true";
  return out;
}

bool IsTrue(const labels::Labels& l, const char* key) {
  auto it = l.find(key);
  return it != l.end() && it->second == "true";
}

// A named checkpoint of `container_id` from an image record; nullopt for an image that is not
// one (another container's, or one named alike by hand without the labels).
std::optional<NamedCheckpoint> FromImage(const std::string& container_id, const metadata::Image& image) {
  auto container = image.labels.find(checkpoint::kLabelContainer);
  auto name = image.labels.find(checkpoint::kLabelName);
  if (!IsTrue(image.labels, checkpoint::kCheckpointLabel) || container == image.labels.end() ||
      container->second != container_id || name == image.labels.end() ||
      image.name != checkpoint::NamedCheckpointImage(container_id, name->second)) {
    return std::nullopt;
  }
  NamedCheckpoint out;
  out.name = name->second;
  out.created_at = image.created_at;
  out.flags.exit = IsTrue(image.labels, checkpoint::kLabelExit);
  out.flags.tcp = IsTrue(image.labels, checkpoint::kLabelTcp);
  out.flags.unix_sockets = IsTrue(image.labels, checkpoint::kLabelUnixSockets);
  out.flags.shell = IsTrue(image.labels, checkpoint::kLabelShell);
  return out;
}

Result<std::string> ReadAll(const content::ReaderAt& reader) {
  std::string out(static_cast<size_t>(reader.size()), '\0');
  size_t done = 0;
  while (done < out.size()) {
    BERTH_ASSIGN_OR_RETURN(size_t n, reader.ReadAt(std::span<char>(out.data() + done, out.size() - done),
                                                   static_cast<int64_t>(done)));
    if (n == 0) break;
    done += n;
  }
  out.resize(done);
  return out;
}

}  // namespace

void Checkpoints::Publish(const std::string& ns, std::string_view topic, const google::protobuf::Message& event) {
  Status st = publisher_.Publish(ns, topic, event);
  if (!st.ok()) log::Warn("publish image event", {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
}

Result<NamedCheckpoint> Checkpoints::Create(const std::string& ns, const std::string& container_id,
                                            const std::string& name, const CheckpointFlags& flags) {
  BERTH_RETURN_IF_ERROR(ValidateName(name));
  const std::string image_name = checkpoint::NamedCheckpointImage(container_id, name);
  metadata::Container container;
  BERTH_RETURN_IF_ERROR(db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(container, metadata::containers::Get(tx, ns, container_id));
    auto existing = metadata::images::Get(tx, ns, image_name);
    if (existing.ok()) return AlreadyExists("checkpoint {:?} of container {} already exists", name, container_id);
    if (!existing.status().Is(Errc::kNotFound)) return existing.status();
    return Status::Ok();
  }));

  BERTH_ASSIGN_OR_RETURN(OperationLease lease, OperationLease::Create(db_, ns, schedule_gc_));
  const metadata::ContentScope scope{ns, lease.id()};

  // containerd's defaults for a container checkpoint (file locks on), with the seed's flags.
  containerd::runc::v1::CheckpointOptions options;
  options.set_exit(flags.exit);
  options.set_open_tcp(flags.tcp);
  options.set_external_unix_sockets(flags.unix_sockets);
  options.set_terminal(flags.shell);
  options.set_file_locks(true);
  const google::protobuf::Any options_any = events::PackAny(options);  // "containerd.runc.v1.CheckpointOptions"

  CheckpointRequest req;
  req.container_id = container_id;
  req.options = options_any;
  req.lease = lease.id();
  BERTH_ASSIGN_OR_RETURN(std::vector<checkpoint::Blob> task_blobs, tasks_.Checkpoint(ns, req));
  if (task_blobs.empty()) return Internal("checkpoint of {} wrote no blobs", container_id);

  // From here the task is checkpointed (and, with exit, stopped); whatever fails leaves no
  // image record, and the lease's end lets the collector take the blobs.
  images::CheckpointIndex index;
  for (auto& b : task_blobs) index.manifests.push_back(images::IndexEntry{b.media_type, b.digest, b.size, {}, true});
  const std::string options_bytes = options_any.SerializeAsString();
  BERTH_ASSIGN_OR_RETURN(checkpoint::Blob options_blob,
                         checkpoint::StoreBlob(content_, scope, checkpoint::kMediaTypeOptions,
                                               container_id + "-checkpoint-options",
                                               [&](const ByteSink& sink) { return sink(options_bytes); }));
  index.manifests.push_back(images::IndexEntry{options_blob.media_type, options_blob.digest, options_blob.size, {}, true});
  index.annotations[checkpoint::kAnnotationRuntime] = container.runtime.name;
  if (!container.image.empty()) index.annotations[checkpoint::kAnnotationImageName] = container.image;
  if (!container.snapshotter.empty()) index.annotations[checkpoint::kAnnotationSnapshotter] = container.snapshotter;
  const std::string index_json = images::EncodeCheckpointIndex(index, images::HostPlatform());
  BERTH_ASSIGN_OR_RETURN(checkpoint::Blob index_blob,
                         checkpoint::StoreBlob(content_, scope, std::string(images::kOciIndex), container_id + "index",
                                               [&](const ByteSink& sink) { return sink(index_json); }));
  // The index keeps its manifests alive once the lease is gone (containerd's writeIndex labels).
  const labels::Labels gc_labels = images::CheckpointIndexGcLabels(index);
  std::vector<std::string> paths;
  for (const auto& [key, _] : gc_labels) paths.push_back("labels." + key);
  BERTH_ASSIGN_OR_RETURN(Digest index_digest, ParseDigest(index_blob.digest));
  BERTH_RETURN_IF_ERROR(content_.Update(scope, index_digest, gc_labels, paths).status());

  metadata::Image image;
  image.name = image_name;
  image.labels = ImageLabels(container_id, name, flags);
  image.target = metadata::Descriptor{std::string(images::kOciIndex), index_blob.digest, index_blob.size, {}};
  metadata::Image created;
  Status st = db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(created, metadata::images::Create(tx, ns, image));
    return Status::Ok();
  });
  if (st.Is(Errc::kAlreadyExists)) {
    return AlreadyExists("checkpoint {:?} of container {} already exists", name, container_id);
  }
  BERTH_RETURN_IF_ERROR(st);
  log::Info("image created", {{"namespace", ns}, {"name", created.name}, {"target", created.target.digest}});
  log::Info("checkpoint created", {{"namespace", ns}, {"id", container_id}, {"name", name},
                                   {"exit", flags.exit}, {"index", index_blob.digest}});
  containerd::services::images::v1::ImageCreate event;
  event.set_name(created.name);
  for (const auto& [k, v] : created.labels) (*event.mutable_labels())[k] = v;
  Publish(ns, "/images/create", event);

  auto out = FromImage(container_id, created);
  if (!out) return Internal("checkpoint image {} lost its labels", created.name);
  return *out;
}

Result<std::vector<NamedCheckpoint>> Checkpoints::List(const std::string& ns, const std::string& container_id) const {
  std::vector<metadata::Image> found;
  // Container ids are identifiers: nothing to escape in the quoted value.
  const std::string filter =
      fmt::format("labels.\"{}\"==\"{}\"", checkpoint::kLabelContainer, container_id);
  BERTH_RETURN_IF_ERROR(db_.View([&](metadata::Tx& tx) -> Status {
    if (auto container = metadata::containers::Get(tx, ns, container_id); !container.ok()) return container.status();
    BERTH_ASSIGN_OR_RETURN(found, metadata::images::List(tx, ns, {filter}));
    return Status::Ok();
  }));
  std::vector<NamedCheckpoint> out;
  for (const auto& image : found) {
    if (auto cp = FromImage(container_id, image)) out.push_back(std::move(*cp));
  }
  std::sort(out.begin(), out.end(), [](const NamedCheckpoint& a, const NamedCheckpoint& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.name < b.name;
  });
  return out;
}

Status Checkpoints::Delete(const std::string& ns, const std::string& container_id, const std::string& name) {
  BERTH_RETURN_IF_ERROR(ValidateName(name));
  const std::string image_name = checkpoint::NamedCheckpointImage(container_id, name);
  Status st = db_.Update([&](metadata::Tx& tx) { return metadata::images::Delete(tx, ns, image_name); });
  if (st.Is(Errc::kNotFound)) return NotFoundCheckpoint(name, container_id);
  BERTH_RETURN_IF_ERROR(st);
  log::Info("image deleted", {{"namespace", ns}, {"name", image_name}, {"sync", false}});
  containerd::services::images::v1::ImageDelete event;
  event.set_name(image_name);
  Publish(ns, "/images/delete", event);
  if (schedule_gc_) schedule_gc_();  // its index, criu tar, spec and options go now
  return Status::Ok();
}

Result<checkpoint::Blob> Checkpoints::Find(const std::string& ns, const std::string& container_id,
                                           const std::string& name) const {
  BERTH_RETURN_IF_ERROR(ValidateName(name));
  const std::string image_name = checkpoint::NamedCheckpointImage(container_id, name);
  metadata::Image image;
  Status st = db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(image, metadata::images::Get(tx, ns, image_name));
    return Status::Ok();
  });
  if (st.Is(Errc::kNotFound)) return NotFoundCheckpoint(name, container_id);
  BERTH_RETURN_IF_ERROR(st);
  const std::string what = fmt::format("checkpoint {:?} of container {}", name, container_id);
  if (image.target.media_type != images::kOciIndex) {
    return FailedPrecondition("{}: its image is a {}, not a checkpoint index", what, image.target.media_type);
  }
  if (image.target.size > kMaxIndexSize) {
    return FailedPrecondition("{}: index of {} bytes is too large", what, image.target.size);
  }
  BERTH_ASSIGN_OR_RETURN(Digest digest, ParseDigest(image.target.digest));
  auto reader = content_.Reader(metadata::ContentScope{ns, std::nullopt}, digest);
  if (!reader.ok()) {
    if (reader.status().Is(Errc::kNotFound)) return FailedPrecondition("{}: its index is gone from the content store", what);
    return reader.status().Wrap(what);
  }
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadAll(*reader));
  auto index = images::DecodeCheckpointIndex(text);
  if (!index.ok()) return FailedPrecondition("{}: {}", what, index.status().message());
  const images::IndexEntry* criu = images::FindEntry(*index, checkpoint::kMediaTypeCriuTar);
  if (criu == nullptr) return FailedPrecondition("{}: its index holds no criu image ({})", what, checkpoint::kMediaTypeCriuTar);
  return checkpoint::Blob{criu->media_type, criu->digest, criu->size};
}

}  // namespace berth::control
