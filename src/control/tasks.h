// Tasks as both front-ends (the gRPC Tasks service, the REST API) create, start and delete them:
// the container's record (spec, runtime, snapshot) from the metadata DB, the process work by
// the runtime's TaskManager and the task's shim. Measures each container's start (task create
// through the start of its init process) for telemetry.
//
// Thread-safety: safe from any thread (the TaskManager serialises per task).
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <utility>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "checkpoint/store_blob.h"
#include "events/exchange.h"
#include "metadata/content_store.h"
#include "metadata/db.h"
#include "mount/mount.h"
#include "runtime/task_manager.h"
#include "snapshots/snapshotter.h"

namespace berth::control {

using Snapshotters = std::map<std::string, snapshots::Snapshotter*, std::less<>>;

// What a caller asks of a new task; everything else comes from the container's record.
struct TaskRequest {
  std::string container_id;
  std::string runtime_path;  // overrides the container's runtime when set
  std::optional<google::protobuf::Any> options;
  std::vector<mount::Mount> rootfs;  // empty: the container's snapshot, if it has one
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  // Restore the task from this checkpoint (a criu tar blob of the namespace) instead of
  // starting it afresh.
  std::optional<checkpoint::Blob> checkpoint;
};

struct CheckpointRequest {
  std::string container_id;
  // containerd.runc.v1.CheckpointOptions: exit, tcp, unix sockets, terminal, file locks,
  // empty namespaces, cgroups mode; image_path/work_path keep criu's files there instead.
  std::optional<google::protobuf::Any> options;
  std::optional<std::string> lease;  // the blobs written join it
};

struct CreatedTask {
  std::shared_ptr<runtime::ShimTask> task;
  uint32_t pid = 0;
};

// At most `limit` task operations (create, start, delete, exec) at once, the rest waiting their
// turn in order of arrival; 0 = unbounded (the seed's --concurrency).
class OperationGate {
 public:
  explicit OperationGate(int limit) : limit_(limit) {}
  class Pass {
   public:
    explicit Pass(OperationGate* gate) : gate_(gate) {}
    Pass(Pass&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (gate_ != nullptr) gate_->Leave();
    }

   private:
    OperationGate* gate_;
  };
  Pass Enter();
  int limit() const { return limit_; }

 private:
  void Leave();
  const int limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;  // FIFO: tickets enter in order
};

// Told of every container start: its namespace and how long create + start took.
using StartObserver = std::function<void(const std::string& ns, std::chrono::nanoseconds took)>;

struct TasksConfig {
  int concurrency = 0;  // OperationGate's limit
  StartObserver on_start;
  metadata::ContentStore* content = nullptr;  // checkpoints: where their blobs go (required)
  events::Publisher* events = nullptr;        // /tasks/checkpointed (optional)
  // Where criu's image files wait on their way to the content store (emptied at start: what
  // a crash left there is garbage).
  std::filesystem::path scratch;
};

class Tasks {
 public:
  Tasks(metadata::Db& db, runtime::TaskManager& manager, Snapshotters snapshotters, TasksConfig config);

  // NotFound for a missing container; InvalidArgument for one without a spec or with an
  // unknown snapshotter; the TaskManager's errors (AlreadyExists, the shim's).
  Result<CreatedTask> Create(const std::string& ns, const TaskRequest& req);
  // Starts the init process (empty exec id) or an exec; its pid.
  Result<uint32_t> Start(const std::string& ns, const std::string& id, const std::string& exec_id);
  // Adds an exec process (started with Start(ns, id, exec_id)).
  Status Exec(const std::string& ns, const std::string& id, const containerd::task::v2::ExecProcessRequest& req);
  // The container must exist (NotFound as containerd), then its task (NotFound `task X not found`).
  Result<std::shared_ptr<runtime::ShimTask>> Get(const std::string& ns, const std::string& id) const;
  std::vector<std::shared_ptr<runtime::ShimTask>> List(const std::string& ns) const { return manager_.List(ns); }
  // Deletes the init process, shuts the shim down, removes the bundle.
  Result<containerd::task::v2::DeleteResponse> Delete(const std::string& ns, const std::string& id);

  // containerd's Tasks.Checkpoint: criu dumps the task, its image files go into the content
  // store as a criu tar, the container's spec beside it; both descriptors are returned (none
  // when the options name an image_path: the files stay there). The shim's errors as they come
  // (FailedPrecondition when criu is unusable here); nothing is left in the store on failure.
  Result<std::vector<checkpoint::Blob>> Checkpoint(const std::string& ns, const CheckpointRequest& req);

 private:
  metadata::Db& db_;
  runtime::TaskManager& manager_;
  Snapshotters snapshotters_;
  OperationGate gate_;
  StartObserver on_start_;
  metadata::ContentStore* content_;
  events::Publisher* events_;
  std::filesystem::path scratch_;
  std::mutex mu_;
  // When each task's create began, until its init process starts (or it is deleted).
  std::map<std::string, std::chrono::steady_clock::time_point> starting_;
};

}  // namespace berth::control
