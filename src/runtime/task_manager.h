// berthd's task manager (containerd's runtime v2 ShimManager + TaskManager): one shim per task,
// found by namespace and id. Creating a task makes its bundle, starts its shim and asks it to
// create the container; deleting asks the shim to delete, shuts it down and removes the bundle.
// A shim whose connection drops without a delete is cleaned up (its `delete` action, the
// bundle) and /tasks/exit + /tasks/delete are published for it, as containerd does. At start,
// Restore() reconnects to every shim that kept running while berthd was down.
#pragma once

#include <filesystem>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "common/status.h"
#include "events/exchange.h"
#include "mount/mount.h"
#include "runtime/shim_launcher.h"
#include "runtime/shim_options.h"
#include "runtime/shim_log.h"
#include "runtime/shim_task.h"
#include "ttrpc/event_loop.h"

namespace berth::runtime {

struct CreateTaskOptions {
  std::string runtime;                                  // container's runtime name (or a path)
  std::optional<google::protobuf::Any> runtime_options;  // container's runtime options
  std::optional<google::protobuf::Any> task_options;     // the request's options (preferred)
  std::string spec_json;                                 // the OCI runtime spec
  std::vector<mount::Mount> rootfs;
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  // A task restored from a checkpoint: the directory of criu's image files...
  std::string checkpoint;
  // ...or made in the new bundle by this (it returns the directory; a failure fails the create
  // and removes the bundle).
  std::function<Result<std::string>(const std::filesystem::path& bundle)> checkpoint_into_bundle;
};

// A task just created: its shim, and the pid of its init process (not started yet).
struct CreatedTask {
  std::shared_ptr<ShimTask> task;
  uint32_t pid = 0;
};

struct TaskManagerConfig {
  std::filesystem::path tasks_root;  // <state>/io.containerd.runtime.v2.task, containerd's place
  // Where earlier versions kept bundles: tasks found there at Restore are adopted as well.
  std::vector<std::filesystem::path> legacy_tasks_roots;
  // The runc shim's options where a client sets none: root <state>/runc (the OCI runtime's
  // state, per namespace) and the config's runc defaults.
  ShimDefaults shim_defaults;
  ShimLauncherConfig launcher;
};

// Thread-safe: all methods may be called concurrently (the task map is behind a mutex); Create,
// Delete, Restore and CloseAll block on shims, so never on the loop thread. A dead shim is
// cleaned up on a thread of its own; CloseAll and the destructor wait for those.
class TaskManager {
 public:
  TaskManager(TaskManagerConfig config, ttrpc::EventLoop& loop, events::Publisher& publisher);
  ~TaskManager();

  // AlreadyExists `task ID: already exists` if the task is there (or being created). A failure
  // undoes what was made (the shim, its log, the bundle).
  Result<CreatedTask> Create(const std::string& ns, const std::string& id, const CreateTaskOptions& opts);
  // NotFound `task ID not found`.
  Result<std::shared_ptr<ShimTask>> Get(const std::string& ns, const std::string& id) const;
  std::vector<std::shared_ptr<ShimTask>> List(const std::string& ns) const;
  // Every namespace's (telemetry).
  std::vector<std::shared_ptr<ShimTask>> ListAll() const;
  // Deletes the init process, shuts the shim down, removes the bundle.
  Result<containerd::task::v2::DeleteResponse> Delete(const std::string& ns, const std::string& id);

  // Reconnects to the shims of the bundles on disk. `container_exists(ns, id)`: a bundle
  // whose container is gone from the metadata is cleaned up instead.
  void Restore(const std::function<bool(const std::string&, const std::string&)>& container_exists);

  // Closes every shim connection (daemon shutdown; the shims and their tasks keep running).
  void CloseAll();

 private:
  struct Entry {
    std::shared_ptr<ShimTask> task;
    std::shared_ptr<ShimLog> log;
  };
  static std::string Key(const std::string& ns, const std::string& id) { return ns + "/" + id; }

  // Connects to the shim at `address` and registers it; OnClose cleans up unless deleted.
  Result<std::shared_ptr<ShimTask>> Attach(const Bundle& bundle, const std::string& binary,
                                           const std::string& address, std::shared_ptr<ShimLog> log);
  void OnShimClosed(const std::weak_ptr<ShimTask>& weak);
  void CleanupDeadShim(const Bundle& bundle, const std::string& binary, bool publish);
  // Bundle::Delete, and when it fails (e.g. out of fds) the bundle is kept on a list and tried
  // again (RetryBundleDeletes) by the next create or delete, and on a timer (1 s, doubling up
  // to a minute while it keeps failing), so it is not left until a restart.
  void DeleteBundle(const Bundle& bundle);
  void RetryBundleDeletes();
  // mu_ held: arms the retry timer unless armed (or closing); the retry runs on a thread of its
  // own, counted in cleanups_running_.
  void ScheduleBundleRetryLocked();
  static constexpr std::chrono::milliseconds kFirstBundleRetryDelay{1000};
  static constexpr std::chrono::milliseconds kMaxBundleRetryDelay{60000};

  TaskManagerConfig config_;
  ShimLauncher launcher_;
  ttrpc::EventLoop& loop_;
  events::Publisher& publisher_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> tasks_;
  std::set<std::string> creating_;
  std::vector<Bundle> undeleted_;  // bundles whose Delete failed (DeleteBundle)
  bool retry_scheduled_ = false;   // a RetryBundleDeletes timer is armed
  std::chrono::milliseconds retry_delay_ = kFirstBundleRetryDelay;  // the next timer's delay
  bool closing_ = false;
  int cleanups_running_ = 0;  // dead-shim cleanups on their own threads
  std::condition_variable cleanups_done_;
};

}  // namespace berth::runtime
