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
#include "control/task_ops.h"
#include "events/exchange.h"
#include "metadata/content_store.h"
#include "metadata/db.h"
#include "mount/mount.h"
#include "runtime/task_manager.h"
#include "snapshots/snapshotter.h"

namespace berth::control {

using Snapshotters = std::map<std::string, snapshots::Snapshotter*, std::less<>>;

// At most `limit` task operations (create, start, delete, exec) at once, the rest waiting their
// turn in order of arrival; 0 = unbounded (the seed's --concurrency).
// Thread-safe: Enter may be called from any thread (one mutex and condition variable).
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

// TaskOps over the metadata DB and the TaskManager (errors as TaskOps states them).
class Tasks : public TaskOps {
 public:
  Tasks(metadata::Db& db, runtime::TaskManager& manager, Snapshotters snapshotters, TasksConfig config);

  Result<CreatedTask> Create(const std::string& ns, const TaskRequest& req) override;
  Result<uint32_t> Start(const std::string& ns, const std::string& id, const std::string& exec_id) override;
  Status Exec(const std::string& ns, const std::string& id,
              const containerd::task::v2::ExecProcessRequest& req) override;
  Result<std::shared_ptr<runtime::ShimTask>> Get(const std::string& ns, const std::string& id) const override;
  std::vector<std::shared_ptr<runtime::ShimTask>> List(const std::string& ns) const override {
    return manager_.List(ns);
  }
  Result<containerd::task::v2::DeleteResponse> Delete(const std::string& ns, const std::string& id) override;
  Result<std::vector<checkpoint::Blob>> Checkpoint(const std::string& ns, const CheckpointRequest& req) override;

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
