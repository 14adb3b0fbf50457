#include "control/tasks.h"

#include <stdlib.h>

#include "checkpoint/image_tar.h"
#include "checkpoint/media_types.h"
#include "common/any_message.h"
#include "common/crash_point.h"
#include "common/identifiers.h"
#include "common/logging.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "metadata/containers.h"

namespace berth::control {

namespace {

Result<metadata::Container> GetContainer(metadata::Db& db, const std::string& ns, const std::string& id) {
  Result<metadata::Container> out = NotFound("container {}", id);
  BERTH_RETURN_IF_ERROR(db.View([&](metadata::Tx& tx) -> Status {
    out = metadata::containers::Get(tx, ns, id);
    return out.status();
  }));
  return out;
}

std::string Key(const std::string& ns, const std::string& id) { return ns + "/" + id; }

// A scratch directory removed with its owner.
class ScratchDir {
 public:
  static Result<ScratchDir> Make(const std::filesystem::path& root, const std::string& name) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    std::string tmpl = (root / (name + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("mkdtemp " + tmpl, errno);
    return ScratchDir(tmpl);
  }
  ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) log::Warn("remove checkpoint scratch", {{"path", path_.string()}, {"error", ec.message()}});
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// containerd's getCheckpointPath/getRestorePath: an image path in the options keeps criu's
// files there, out of the content store.
std::string CheckpointImagePath(const std::optional<google::protobuf::Any>& options) {
  containerd::runc::v1::CheckpointOptions o;
  if (options && UnpackAny(*options, &o)) return o.image_path();
  return "";
}
std::string RestoreImagePath(const std::optional<google::protobuf::Any>& options) {
  containerd::runc::v1::Options o;
  if (options && UnpackAny(*options, &o)) return o.criu_image_path();
  return "";
}

}  // namespace

Tasks::Tasks(metadata::Db& db, runtime::TaskManager& manager, Snapshotters snapshotters, TasksConfig config)
    : db_(db),
      manager_(manager),
      snapshotters_(std::move(snapshotters)),
      gate_(config.concurrency),
      on_start_(std::move(config.on_start)),
      content_(config.content),
      events_(config.events),
      scratch_(std::move(config.scratch)) {
  if (!scratch_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);  // a crash's half-written checkpoints
    if (ec) log::Warn("clean checkpoint scratch", {{"path", scratch_.string()}, {"error", ec.message()}});
  }
}

OperationGate::Pass OperationGate::Enter() {
  if (limit_ <= 0) return Pass(nullptr);
  std::unique_lock lock(mu_);
  uint64_t ticket = next_ticket_++;
  cv_.wait(lock, [&] { return ticket == serving_ && running_ < limit_; });
  ++running_;
  ++serving_;
  cv_.notify_all();  // the next ticket may fit too
  return Pass(this);
}

void OperationGate::Leave() {
  std::lock_guard lock(mu_);
  --running_;
  cv_.notify_all();
}

Result<CreatedTask> Tasks::Create(const std::string& ns, const TaskRequest& req) {
  auto began = std::chrono::steady_clock::now();
  auto pass = gate_.Enter();
  BERTH_ASSIGN_OR_RETURN(metadata::Container container, GetContainer(db_, ns, req.container_id));
  runtime::CreateTaskOptions opts;
  opts.runtime = req.runtime_path.empty() ? container.runtime.name : req.runtime_path;
  opts.runtime_options = container.runtime.options;
  opts.task_options = req.options;
  if (!container.spec) return InvalidArgument("container {} has no spec", container.id);
  opts.spec_json = container.spec->value();
  opts.rootfs = req.rootfs;
  // No rootfs in the request: the container's own snapshot, if it has one.
  if (opts.rootfs.empty() && !container.snapshot_key.empty()) {
    auto it = snapshotters_.find(container.snapshotter);
    if (it == snapshotters_.end()) {
      return InvalidArgument("snapshotter {} of container {} not loaded", container.snapshotter, container.id);
    }
    BERTH_ASSIGN_OR_RETURN(opts.rootfs, it->second->Mounts(ns, container.snapshot_key));
  }
  opts.stdin_path = req.stdin_path;
  opts.stdout_path = req.stdout_path;
  opts.stderr_path = req.stderr_path;
  opts.terminal = req.terminal;
  opts.checkpoint = RestoreImagePath(req.options);
  if (opts.checkpoint.empty() && req.checkpoint) {
    if (req.checkpoint->media_type != checkpoint::kMediaTypeCriuTar) {
      return InvalidArgument("unsupported checkpoint type {:?}", req.checkpoint->media_type);
    }
    if (content_ == nullptr) return NotImplemented("restoring a task from a checkpoint");
    BERTH_ASSIGN_OR_RETURN(Digest digest, ParseDigest(req.checkpoint->digest));
    auto blob = content_->Reader(metadata::ContentScope{ns, std::nullopt}, digest);
    if (!blob.ok()) return blob.status().Wrap(fmt::format("checkpoint {} of {}", req.checkpoint->digest, container.id));
    // criu's files go into the new bundle: they leave with it.
    auto reader = std::make_shared<content::ReaderAt>(std::move(*blob));
    opts.checkpoint_into_bundle = [reader](const std::filesystem::path& bundle) -> Result<std::string> {
      std::filesystem::path dir = bundle / "checkpoint";
      std::error_code ec;
      std::filesystem::create_directory(dir, ec);
      if (ec) return Unknown("create {}: {}", dir.string(), ec.message());
      BERTH_RETURN_IF_ERROR(checkpoint::ExtractImageTar(*reader, dir));
      return dir.string();
    };
  }
  auto created = manager_.Create(ns, container.id, opts);
  if (!created.ok()) {
    log::Warn("create task", {{"namespace", ns}, {"id", container.id}, {"error", created.status().ToString()}});
    return created.status();
  }
  std::lock_guard lock(mu_);
  starting_[Key(ns, container.id)] = began;
  return created;
}

Result<uint32_t> Tasks::Start(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, Get(ns, id));
  auto pass = gate_.Enter();
  BERTH_ASSIGN_OR_RETURN(auto started, task->Start(exec_id));
  CrashPoint("task.start.started");
  if (exec_id.empty()) {
    std::optional<std::chrono::steady_clock::time_point> began;
    {
      std::lock_guard lock(mu_);
      auto it = starting_.find(Key(ns, id));
      if (it != starting_.end()) {
        began = it->second;
        starting_.erase(it);
      }
    }
    if (began && on_start_) on_start_(ns, std::chrono::steady_clock::now() - *began);
  }
  return started.pid();
}

Status Tasks::Exec(const std::string& ns, const std::string& id,
                   const containerd::task::v2::ExecProcessRequest& req) {
  // As containerd's runtime/v2: the shim names files in the bundle after the exec id.
  BERTH_RETURN_IF_ERROR(identifiers::Validate(req.exec_id()).Wrap(fmt::format("invalid exec id {}", req.exec_id())));
  BERTH_ASSIGN_OR_RETURN(auto task, Get(ns, id));
  auto pass = gate_.Enter();
  return task->Exec(req);
}

Result<std::shared_ptr<runtime::ShimTask>> Tasks::Get(const std::string& ns, const std::string& id) const {
  BERTH_RETURN_IF_ERROR(GetContainer(db_, ns, id).status());
  return manager_.Get(ns, id);
}

Result<containerd::task::v2::DeleteResponse> Tasks::Delete(const std::string& ns, const std::string& id) {
  BERTH_RETURN_IF_ERROR(Get(ns, id).status());
  {
    std::lock_guard lock(mu_);
    starting_.erase(Key(ns, id));
  }
  auto pass = gate_.Enter();
  return manager_.Delete(ns, id);
}

Result<std::vector<checkpoint::Blob>> Tasks::Checkpoint(const std::string& ns, const CheckpointRequest& req) {
  BERTH_ASSIGN_OR_RETURN(metadata::Container container, GetContainer(db_, ns, req.container_id));
  BERTH_ASSIGN_OR_RETURN(auto task, manager_.Get(ns, req.container_id));
  const google::protobuf::Any* options = req.options ? &*req.options : nullptr;
  const std::string image_path = CheckpointImagePath(req.options);
  if (!image_path.empty()) {
    // The caller keeps criu's files where it said: nothing goes into the content store.
    BERTH_RETURN_IF_ERROR(task->Checkpoint(image_path, options));
    log::Info("task checkpointed", {{"namespace", ns}, {"id", req.container_id}, {"path", image_path}});
    return std::vector<checkpoint::Blob>{};
  }
  if (content_ == nullptr || scratch_.empty()) return NotImplemented("checkpoint of task {}", req.container_id);
  BERTH_ASSIGN_OR_RETURN(ScratchDir dir, ScratchDir::Make(scratch_, ns + "-" + req.container_id));
  if (Status st = task->Checkpoint(dir.path().string(), options); !st.ok()) {
    log::Warn("checkpoint task", {{"namespace", ns}, {"id", req.container_id}, {"error", st.ToString()}});
    return st;
  }
  const metadata::ContentScope scope{ns, req.lease};
  BERTH_ASSIGN_OR_RETURN(checkpoint::Blob criu,
                         checkpoint::StoreBlob(*content_, scope, checkpoint::kMediaTypeCriuTar, req.container_id,
                                               [&](const ByteSink& sink) {
                                                 return checkpoint::WriteImageTar(dir.path(), sink);
                                               }));
  // The spec as containerd writes it: the record's Any, serialized.
  const std::string spec = container.spec ? container.spec->SerializeAsString() : std::string();
  auto spec_blob = checkpoint::StoreBlob(*content_, scope, checkpoint::kMediaTypeConfig, req.container_id + "-spec",
                                         [&](const ByteSink& sink) { return sink(spec); });
  if (!spec_blob.ok()) return spec_blob.status();
  if (events_ != nullptr) {
    containerd::events::TaskCheckpointed e;
    e.set_container_id(req.container_id);
    e.set_checkpoint(criu.digest);
    events_->Publish(ns, "/tasks/checkpointed", e).IgnoreError();
  }
  log::Info("task checkpointed", {{"namespace", ns}, {"id", req.container_id}, {"checkpoint", criu.digest},
                                  {"size", criu.size}});
  return std::vector<checkpoint::Blob>{criu, *spec_blob};
}

}  // namespace berth::control
