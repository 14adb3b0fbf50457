#include "control/tasks.h"

#include "common/logging.h"
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

}  // namespace

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
  CreatedTask out;
  auto task = manager_.Create(ns, container.id, opts, &out.pid);
  if (!task.ok()) {
    log::Warn("create task", {{"namespace", ns}, {"id", container.id}, {"error", task.status().ToString()}});
    return task.status();
  }
  out.task = std::move(*task);
  std::lock_guard lock(mu_);
  starting_[Key(ns, container.id)] = began;
  return out;
}

Result<uint32_t> Tasks::Start(const std::string& ns, const std::string& id, const std::string& exec_id) {
  BERTH_ASSIGN_OR_RETURN(auto task, Get(ns, id));
  auto pass = gate_.Enter();
  BERTH_ASSIGN_OR_RETURN(auto started, task->Start(exec_id));
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

}  // namespace berth::control
