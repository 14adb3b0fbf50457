#include "runtime/task_manager.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <thread>

#include "common/crash_point.h"
#include "common/logging.h"
#include "common/scope_guard.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "mount/mount_proto.h"
#include "runtime/shim_options.h"

namespace berth::runtime {

TaskManager::TaskManager(TaskManagerConfig config, ttrpc::EventLoop& loop, events::Publisher& publisher)
    : config_(std::move(config)), launcher_(config_.launcher), loop_(loop), publisher_(publisher) {}

TaskManager::~TaskManager() { CloseAll(); }

void TaskManager::DeleteBundle(const Bundle& bundle) {
  Status deleted = bundle.Delete();
  if (deleted.ok()) return;
  log::Warn("failed to delete bundle, will try again",
            {{"namespace", bundle.ns}, {"id", bundle.id}, {"error", deleted.ToString()}});
  std::lock_guard lock(mu_);
  undeleted_.push_back(bundle);
  ScheduleBundleRetryLocked();
}

void TaskManager::ScheduleBundleRetryLocked() {
  if (retry_scheduled_ || closing_) return;
  retry_scheduled_ = true;
  const std::chrono::milliseconds delay = retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, kMaxBundleRetryDelay);
  loop_.Post([this, delay] {
    loop_.AddTimer(delay, [this] {
      {
        std::lock_guard lock(mu_);
        retry_scheduled_ = false;
        if (closing_ || undeleted_.empty()) return;
        ++cleanups_running_;
      }
      // Removing files blocks: not on the loop thread. A failure re-queues and re-schedules.
      std::thread([this] {
        RetryBundleDeletes();
        std::lock_guard lock(mu_);
        if (undeleted_.empty()) retry_delay_ = kFirstBundleRetryDelay;
        if (--cleanups_running_ == 0) cleanups_done_.notify_all();
      }).detach();
    });
  });
}

void TaskManager::RetryBundleDeletes() {
  std::vector<Bundle> retry;
  {
    std::lock_guard lock(mu_);
    if (undeleted_.empty()) return;
    retry.swap(undeleted_);
  }
  for (const Bundle& b : retry) {
    const std::string key = Key(b.ns, b.id);
    {
      // A task of the same id made meanwhile owns the path now; otherwise the id is reserved
      // (as a create reserves it) while its old bundle goes, so no create takes it meanwhile.
      std::lock_guard lock(mu_);
      if (tasks_.count(key) != 0 || creating_.count(key) != 0) continue;
      creating_.insert(key);
    }
    DeleteBundle(b);
    std::lock_guard lock(mu_);
    creating_.erase(key);
  }
}

Result<CreatedTask> TaskManager::Create(const std::string& ns, const std::string& id,
                                        const CreateTaskOptions& opts) {
  RetryBundleDeletes();
  const std::string key = Key(ns, id);
  {
    std::lock_guard lock(mu_);
    if (tasks_.count(key) != 0 || creating_.count(key) != 0) {
      return AlreadyExists("task {}", id);
    }
    creating_.insert(key);
  }
  ScopeGuard unreserve([this, &key] {
    std::lock_guard lock(mu_);
    creating_.erase(key);
  });

  BERTH_ASSIGN_OR_RETURN(std::optional<google::protobuf::Any> topts,
                         ShimOptions(opts.runtime, opts.runtime_options, opts.task_options, config_.shim_defaults));

  BERTH_ASSIGN_OR_RETURN(std::string binary, launcher_.Resolve(opts.runtime));
  BERTH_ASSIGN_OR_RETURN(Bundle bundle, Bundle::Create(config_.tasks_root, ns, id, opts.spec_json));
  // From here a failure undoes each step made, in reverse: the shim, its log, the bundle.
  ScopeGuard remove_bundle([this, &bundle] { DeleteBundle(bundle); });
  BERTH_RETURN_IF_ERROR(bundle.WriteShimBinary(binary));
  std::string checkpoint = opts.checkpoint;
  if (opts.checkpoint_into_bundle) {
    BERTH_ASSIGN_OR_RETURN(checkpoint, opts.checkpoint_into_bundle(bundle.path));
  }
  BERTH_ASSIGN_OR_RETURN(std::shared_ptr<ShimLog> shim_log, ShimLog::Open(loop_, bundle));
  ScopeGuard close_log([&shim_log] { shim_log->Close(); });
  auto address = launcher_.Start(binary, bundle, topts);
  if (!address.ok()) return address.status().Wrap("failed to start shim");
  CrashPoint("task.create.shim_started");
  auto attached = Attach(bundle, binary, *address, shim_log);
  if (!attached.ok()) {
    launcher_.CleanupDead(binary, bundle).IgnoreError();
    return attached.status().Wrap("failed to start shim");
  }
  std::shared_ptr<ShimTask> task = std::move(attached).value();
  ScopeGuard stop_shim([this, &task, &key] {
    // As containerd: delete what the shim may have made, shut it down, forget it.
    task->MarkDeleted();
    task->Delete("").IgnoreError();
    task->Shutdown().IgnoreError();
    task->client().Close();
    std::lock_guard lock(mu_);
    tasks_.erase(key);
  });

  containerd::task::v2::CreateTaskRequest req;
  req.set_id(id);
  req.set_bundle(bundle.path.string());
  req.set_stdin(opts.stdin_path);
  req.set_stdout(opts.stdout_path);
  req.set_stderr(opts.stderr_path);
  req.set_terminal(opts.terminal);
  req.set_checkpoint(checkpoint);
  if (topts) *req.mutable_options() = *topts;
  for (const auto& m : opts.rootfs) mount::ToProto(m, req.add_rootfs());
  auto created = task->Create(req);
  if (!created.ok()) return created.status().Wrap("failed to create shim task");
  CrashPoint("task.create.created");
  stop_shim.Dismiss();
  close_log.Dismiss();
  remove_bundle.Dismiss();
  return CreatedTask{std::move(task), created->pid()};
}

Result<std::shared_ptr<ShimTask>> TaskManager::Attach(const Bundle& bundle, const std::string& binary,
                                                      const std::string& address,
                                                      std::shared_ptr<ShimLog> log) {
  BERTH_ASSIGN_OR_RETURN(auto client, ttrpc::Client::Connect(loop_, address));
  auto task = std::make_shared<ShimTask>(bundle, binary, client);
  {
    std::lock_guard lock(mu_);
    tasks_[Key(bundle.ns, bundle.id)] = Entry{task, std::move(log)};
  }
  std::weak_ptr<ShimTask> weak = task;
  client->OnClose([this, weak] { OnShimClosed(weak); });
  return task;
}

void TaskManager::OnShimClosed(const std::weak_ptr<ShimTask>& weak) {
  auto task = weak.lock();
  if (!task || task->deleted()) return;
  {
    std::lock_guard lock(mu_);
    if (closing_) return;  // berthd is stopping: the shims keep running
    auto it = tasks_.find(Key(task->ns(), task->id()));
    if (it == tasks_.end() || it->second.task != task) return;
    ++cleanups_running_;
  }
  // Runs the shim's delete action: not on the event loop thread.
  std::thread([this, task] {
    log::Warn("cleaning up after shim disconnected", {{"namespace", task->ns()}, {"id", task->id()}});
    CleanupDeadShim(task->bundle(), task->shim_binary(), true);
    std::lock_guard lock(mu_);
    if (--cleanups_running_ == 0) cleanups_done_.notify_all();
  }).detach();
}

void TaskManager::CleanupDeadShim(const Bundle& bundle, const std::string& binary, bool publish) {
  auto resp = launcher_.CleanupDead(binary, bundle);
  if (!resp.ok()) {
    log::Warn("failed to clean up after shim disconnected",
              {{"namespace", bundle.ns}, {"id", bundle.id}, {"error", resp.status().ToString()}});
  }
  DeleteBundle(bundle);
  std::shared_ptr<ShimLog> log;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(Key(bundle.ns, bundle.id));
    if (it != tasks_.end()) {
      log = it->second.log;
      tasks_.erase(it);
    }
  }
  if (log) log->Close();
  if (!publish) return;
  uint32_t pid = resp.ok() ? resp->pid() : 0;
  uint32_t status = resp.ok() ? resp->exit_status() : 255;
  google::protobuf::Timestamp at = resp.ok() && resp->has_exited_at()
                                       ? resp->exited_at()
                                       : google::protobuf::util::TimeUtil::GetCurrentTime();
  containerd::events::TaskExit exit;
  exit.set_container_id(bundle.id);
  exit.set_id(bundle.id);
  exit.set_pid(pid);
  exit.set_exit_status(status);
  *exit.mutable_exited_at() = at;
  publisher_.Publish(bundle.ns, "/tasks/exit", exit).IgnoreError();
  containerd::events::TaskDelete del;
  del.set_container_id(bundle.id);
  del.set_pid(pid);
  del.set_exit_status(status);
  *del.mutable_exited_at() = at;
  publisher_.Publish(bundle.ns, "/tasks/delete", del).IgnoreError();
}

Result<std::shared_ptr<ShimTask>> TaskManager::Get(const std::string& ns, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(Key(ns, id));
  if (it == tasks_.end()) return NotFound("task {} not found", id);
  return it->second.task;
}

std::vector<std::shared_ptr<ShimTask>> TaskManager::List(const std::string& ns) const {
  std::vector<std::shared_ptr<ShimTask>> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, e] : tasks_) {
    if (e.task->ns() == ns) out.push_back(e.task);
  }
  return out;
}

std::vector<std::shared_ptr<ShimTask>> TaskManager::ListAll() const {
  std::vector<std::shared_ptr<ShimTask>> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, e] : tasks_) out.push_back(e.task);
  return out;
}

Result<containerd::task::v2::DeleteResponse> TaskManager::Delete(const std::string& ns, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto task, Get(ns, id));
  auto resp = task->Delete("");
  if (!resp.ok() && !resp.status().Is(Errc::kNotFound) && !resp.status().Is(Errc::kUnavailable)) {
    return resp.status();
  }
  CrashPoint("task.delete.shim_deleted");
  task->MarkDeleted();
  Status shut = task->Shutdown();
  if (!shut.ok() && !shut.Is(Errc::kUnavailable)) {
    log::Warn("failed to shutdown shim task", {{"namespace", ns}, {"id", id}, {"error", shut.ToString()}});
  }
  task->client().Close();
  std::shared_ptr<ShimLog> log;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(Key(ns, id));
    if (it != tasks_.end() && it->second.task == task) {
      log = it->second.log;
      tasks_.erase(it);
    }
  }
  if (log) log->Close();
  DeleteBundle(task->bundle());
  RetryBundleDeletes();
  if (!resp.ok()) return resp.status();
  return resp;
}

void TaskManager::Restore(const std::function<bool(const std::string&, const std::string&)>& container_exists) {
  std::vector<Bundle> bundles;
  std::vector<std::filesystem::path> roots = config_.legacy_tasks_roots;
  roots.insert(roots.begin(), config_.tasks_root);
  for (const auto& root : roots) {
    auto found = Bundle::LoadAll(root);
    if (!found.ok()) {
      log::Warn("cannot list task bundles", {{"dir", root.string()}, {"error", found.status().ToString()}});
      continue;
    }
    for (Bundle& b : *found) {
      // Bundles in the legacy directory are all berthd's; in containerd's, only the marked ones.
      if (root == config_.tasks_root && !b.MadeByBerth()) {
        log::Warn("bundle not made by berthd left alone (another daemon's state?)",
                  {{"namespace", b.ns}, {"id", b.id}, {"path", b.path.string()}});
        continue;
      }
      bundles.push_back(std::move(b));
    }
  }
  for (const Bundle& b : bundles) {
    std::string bin;
    if (auto recorded = b.ReadShimBinary(); recorded.ok()) {
      bin = *recorded;
    } else if (auto fallback = launcher_.Resolve("io.containerd.runc.v2"); fallback.ok()) {
      bin = *fallback;
    }
    if (!container_exists(b.ns, b.id)) {
      log::Info("cleaning up task whose container is gone", {{"namespace", b.ns}, {"id", b.id}});
      CleanupDeadShim(b, bin, false);
      continue;
    }
    if (auto address = b.ReadAddress(); address.ok()) {
      auto shim_log = ShimLog::Open(loop_, b);
      auto task = Attach(b, bin, *address, shim_log.ok() ? *shim_log : nullptr);
      if (task.ok()) {
        auto conn = (*task)->Connect();
        // No task pid: confirmed with State, since a shim other than berth's or runc's may
        // report 0 for a task it has (one not started yet).
        if (conn.ok() && (conn->task_pid() != 0 || !(*task)->State("").status().Is(Errc::kNotFound))) {
          log::Info("reconnected to shim", {{"namespace", b.ns}, {"id", b.id},
                                            {"shim_pid", conn->shim_pid()}, {"task_pid", conn->task_pid()}});
          continue;
        }
        (*task)->MarkDeleted();  // not a live task after all: cleaned up below, not twice
        if (conn.ok()) {
          // A live shim without a task: berthd stopped between starting the shim and its
          // create (a crash). The create never returned, so nobody knows this task: the shim
          // is told to go (it exits once it serves no task) and its bundle is cleaned up.
          log::Warn("shim has no task (its create never completed), shutting it down",
                    {{"namespace", b.ns}, {"id", b.id}, {"shim_pid", conn->shim_pid()}});
          (*task)->Shutdown().IgnoreError();
        }
        (*task)->client().Close();
      } else if (shim_log.ok()) {
        (*shim_log)->Close();
      }
    }
    log::Warn("shim of a task is gone, cleaning up", {{"namespace", b.ns}, {"id", b.id}});
    CleanupDeadShim(b, bin, false);
  }
}

void TaskManager::CloseAll() {
  std::map<std::string, Entry> tasks;
  {
    std::unique_lock lock(mu_);
    closing_ = true;
    cleanups_done_.wait(lock, [this] { return cleanups_running_ == 0; });
    tasks.swap(tasks_);
  }
  for (auto& [key, e] : tasks) {
    e.task->client().Close();
    if (e.log) e.log->Close();
  }
}

}  // namespace berth::runtime
