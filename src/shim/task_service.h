// containerd.task.v2.Task, served by the shim: containerd's runc shim semantics (states, error
// kinds, events) over an OCI runtime command line. Everything runs on the shim's one loop
// thread; runtime commands are synchronous, Wait is answered when the process exits.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/container.h"
#include "shim/publisher.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"

namespace berth::shim {

namespace task = containerd::task::v2;

struct TaskServiceConfig {
  std::string ns;
  // Options from `start` (kept in the bundle); CreateTaskRequest.options override them.
  RuncOptions default_options;
  bool has_default_options = false;
  // After the last task is deleted, exit by ourselves this much later unless Shutdown comes.
  std::chrono::milliseconds idle_exit{5000};
  std::string cgroup_root = kCgroupRoot;
};

// Not thread-safe: berth-shim's one loop thread only.
class TaskService {
 public:
  TaskService(ttrpc::EventLoop& loop, Publisher& publisher, TaskServiceConfig config,
              std::function<void()> shutdown);
  ~TaskService();

  void Register(ttrpc::Server& server);

  // A child was reaped (wait status already converted).
  void HandleExit(int pid, uint32_t exit_status);
  bool empty() const { return containers_.empty(); }

  Result<task::CreateTaskResponse> Create(const task::CreateTaskRequest& r);
  Result<task::StartResponse> Start(const task::StartRequest& r);
  Result<task::DeleteResponse> Delete(const task::DeleteRequest& r);
  Result<task::StateResponse> State(const task::StateRequest& r);
  Result<task::PidsResponse> Pids(const task::PidsRequest& r);
  Status Pause(const task::PauseRequest& r);
  Status Resume(const task::ResumeRequest& r);
  Status Kill(const task::KillRequest& r);
  Status Exec(const task::ExecProcessRequest& r);
  Status ResizePty(const task::ResizePtyRequest& r);
  Status CloseIO(const task::CloseIORequest& r);
  Status Update(const task::UpdateTaskRequest& r);
  Result<task::StatsResponse> Stats(const task::StatsRequest& r);
  Result<task::ConnectResponse> Connect(const task::ConnectRequest& r);
  Status Shutdown(const task::ShutdownRequest& r);
  // criu dumps the init's container into r.path (or the options' image_path); it keeps
  // running unless the options say exit.
  Status Checkpoint(const task::CheckpointTaskRequest& r);
  // Answers now if the process has exited, else when it does.
  void Wait(const task::WaitRequest& r, ttrpc::Responder responder);

 private:
  Result<Container*> Get(const std::string& id);
  Result<task::CreateTaskResponse> CreateTask(const task::CreateTaskRequest& r);
  // Registers a created container and publishes /tasks/create (pid 0 when restoring).
  Result<task::CreateTaskResponse> Created(std::unique_ptr<Container> c, const task::CreateTaskRequest& r, int pid);
  Status StartInit(Container& c);
  Status StartExec(Container& c, Process& p);
  // Start of a task created from a checkpoint: `restore` instead of `start`.
  Status RestoreInit(Container& c);
  // A failed checkpoint or restore: FailedPrecondition naming criu when `criu check` fails
  // (criu missing or unusable here), else the runtime's error with where criu's log was kept.
  Status CriuFailure(const Container& c, std::string_view what, const Status& st, const std::string& work,
                     const std::string& log_name);
  // Opens non-terminal stdio or a console socket, runs `run`, then collects the terminal.
  Status WithStdio(Process& p, const std::function<Status(const ChildStdio&, const std::string&)>& run);
  void WatchCgroup(Container& c);
  void ScheduleIdleExit();

  ttrpc::EventLoop& loop_;
  Publisher& publisher_;
  TaskServiceConfig config_;
  std::function<void()> shutdown_;
  std::map<std::string, std::unique_ptr<Container>> containers_;
  ttrpc::EventLoop::TimerId idle_timer_ = 0;
};

}  // namespace berth::shim
