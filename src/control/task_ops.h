// TaskOps: what the front-ends (the gRPC Tasks service, the REST API) ask of tasks, as an
// interface, so that a front-end can be tested against a fake. control::Tasks is the
// implementation (the container's record from the metadata DB, the process work by the
// runtime's TaskManager and the task's shim).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "checkpoint/store_blob.h"
#include "common/status.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "mount/mount.h"
#include "runtime/shim_task.h"
#include "runtime/task_manager.h"

namespace berth::control {

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

// The new task's shim and the pid of its init process.
using CreatedTask = runtime::CreatedTask;

// Thread-safe: implementations are called from many request threads at once.
class TaskOps {
 public:
  virtual ~TaskOps() = default;

  // NotFound for a missing container; InvalidArgument for one without a spec or with an
  // unknown snapshotter; the TaskManager's errors (AlreadyExists, the shim's).
  virtual Result<CreatedTask> Create(const std::string& ns, const TaskRequest& req) = 0;
  // Starts the init process (empty exec id) or an exec; its pid.
  virtual Result<uint32_t> Start(const std::string& ns, const std::string& id, const std::string& exec_id) = 0;
  // Adds an exec process (started with Start(ns, id, exec_id)).
  virtual Status Exec(const std::string& ns, const std::string& id,
                      const containerd::task::v2::ExecProcessRequest& req) = 0;
  // The container must exist (NotFound as containerd), then its task (NotFound `task X not found`).
  virtual Result<std::shared_ptr<runtime::ShimTask>> Get(const std::string& ns, const std::string& id) const = 0;
  // The namespace's tasks.
  virtual std::vector<std::shared_ptr<runtime::ShimTask>> List(const std::string& ns) const = 0;
  // Deletes the init process, shuts the shim down, removes the bundle.
  virtual Result<containerd::task::v2::DeleteResponse> Delete(const std::string& ns, const std::string& id) = 0;
  // containerd's Tasks.Checkpoint: criu dumps the task, its image files go into the content
  // store as a criu tar, the container's spec beside it; both descriptors are returned (none
  // when the options name an image_path: the files stay there). The shim's errors as they come
  // (FailedPrecondition when criu is unusable here); nothing is left in the store on failure.
  virtual Result<std::vector<checkpoint::Blob>> Checkpoint(const std::string& ns, const CheckpointRequest& req) = 0;
};

}  // namespace berth::control
