#include "shim/task_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <google/protobuf/empty.pb.h>
#include <nlohmann/json.hpp>

#include "common/any_message.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "common/logging.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/types/task/task.pb.h"
#include "mount/mount.h"
#include "shim/criu_stdio.h"
#include "mount/mount_proto.h"

namespace berth::shim {
namespace ev = containerd::events;
namespace types = containerd::v1::types;
namespace {

constexpr const char* kService = "containerd.task.v2.Task";

types::Status ToProtoStatus(ProcessState s) {
  switch (s) {
    case ProcessState::kCreated: return types::CREATED;
    case ProcessState::kRunning: return types::RUNNING;
    case ProcessState::kPaused: return types::PAUSED;
    case ProcessState::kStopped: return types::STOPPED;
    case ProcessState::kDeleted: return types::UNKNOWN;
  }
  return types::UNKNOWN;
}

Status RuntimeFailure(std::string_view what, const Status& st) {
  return Status(st.code() == Errc::kOk ? Errc::kUnknown : st.code(), fmt::format("{}: {}", what, st.message()));
}

void SetTime(google::protobuf::Timestamp* out, const Process& p) {
  if (p.exited_at != TimePoint{}) *out = ToProto(p.exited_at);
}

}  // namespace

TaskService::TaskService(ttrpc::EventLoop& loop, Publisher& publisher, TaskServiceConfig config,
                         std::function<void()> shutdown)
    : loop_(loop), publisher_(publisher), config_(std::move(config)), shutdown_(std::move(shutdown)) {}

TaskService::~TaskService() {
  if (idle_timer_ != 0) loop_.CancelTimer(idle_timer_);
}

template <typename Req, typename Resp>
static void Unary(ttrpc::Server& s, const char* method, std::function<Result<Resp>(const Req&)> fn) {
  s.RegisterUnary<Req, Resp>(kService, method, [fn = std::move(fn)](const ttrpc::CallContext&, const Req& r) {
    return fn(r);
  });
}

template <typename Req>
static void UnaryEmpty(ttrpc::Server& s, const char* method, std::function<Status(const Req&)> fn) {
  s.RegisterUnary<Req, google::protobuf::Empty>(
      kService, method, [fn = std::move(fn)](const ttrpc::CallContext&, const Req& r) -> Result<google::protobuf::Empty> {
        Status st = fn(r);
        if (!st.ok()) return st;
        return google::protobuf::Empty();
      });
}

void TaskService::Register(ttrpc::Server& s) {
  Unary<task::CreateTaskRequest, task::CreateTaskResponse>(s, "Create", [this](const auto& r) { return Create(r); });
  Unary<task::StartRequest, task::StartResponse>(s, "Start", [this](const auto& r) { return Start(r); });
  Unary<task::DeleteRequest, task::DeleteResponse>(s, "Delete", [this](const auto& r) { return Delete(r); });
  Unary<task::StateRequest, task::StateResponse>(s, "State", [this](const auto& r) { return State(r); });
  Unary<task::PidsRequest, task::PidsResponse>(s, "Pids", [this](const auto& r) { return Pids(r); });
  Unary<task::StatsRequest, task::StatsResponse>(s, "Stats", [this](const auto& r) { return Stats(r); });
  Unary<task::ConnectRequest, task::ConnectResponse>(s, "Connect", [this](const auto& r) { return Connect(r); });
  UnaryEmpty<task::PauseRequest>(s, "Pause", [this](const auto& r) { return Pause(r); });
  UnaryEmpty<task::ResumeRequest>(s, "Resume", [this](const auto& r) { return Resume(r); });
  UnaryEmpty<task::KillRequest>(s, "Kill", [this](const auto& r) { return Kill(r); });
  UnaryEmpty<task::ExecProcessRequest>(s, "Exec", [this](const auto& r) { return Exec(r); });
  UnaryEmpty<task::ResizePtyRequest>(s, "ResizePty", [this](const auto& r) { return ResizePty(r); });
  UnaryEmpty<task::CloseIORequest>(s, "CloseIO", [this](const auto& r) { return CloseIO(r); });
  UnaryEmpty<task::UpdateTaskRequest>(s, "Update", [this](const auto& r) { return Update(r); });
  UnaryEmpty<task::ShutdownRequest>(s, "Shutdown", [this](const auto& r) { return Shutdown(r); });
  UnaryEmpty<task::CheckpointTaskRequest>(s, "Checkpoint", [this](const auto& r) { return Checkpoint(r); });
  s.Register(kService, "Wait", [this](const ttrpc::CallContext&, std::string_view payload, ttrpc::Responder r) {
    task::WaitRequest req;
    if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      r.Fail(InvalidArgument("cannot decode request"));
      return;
    }
    Wait(req, std::move(r));
  });
}

Result<Container*> TaskService::Get(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return NotFound("container not created");
  return it->second.get();
}

Status TaskService::WithStdio(Process& p, const std::function<Status(const ChildStdio&, const std::string&)>& run) {
  if (!p.stdio.terminal) {
    auto io = ProcessIo::Open(p.stdio);
    if (!io.ok()) return io.status().Wrap("failed to create process I/O");
    Status st = run(io->child(), "");
    io->ReleaseChildFds();
    if (!st.ok()) {
      io->Close();
      return st;
    }
    p.io = std::move(*io);
    return Status::Ok();
  }
  auto socket = ConsoleSocket::Create();
  if (!socket.ok()) return socket.status().Wrap("failed to create OCI runtime console socket");
  BERTH_RETURN_IF_ERROR(run(ChildStdio{}, (*socket)->path()));
  auto master = (*socket)->ReceiveMaster();
  if (!master.ok()) return master.status().Wrap("failed to retrieve console master");
  auto console = Console::Start(loop_, std::move(*master), p.stdio.in, p.stdio.out);
  if (!console.ok()) return console.status().Wrap("failed to start console copy");
  p.console = std::move(*console);
  return Status::Ok();
}

Result<task::CreateTaskResponse> TaskService::Create(const task::CreateTaskRequest& r) {
  auto out = CreateTask(r);
  // A shim whose only Create failed must not linger if nobody calls Shutdown.
  if (!out.ok() && containers_.empty()) ScheduleIdleExit();
  return out;
}

Result<task::CreateTaskResponse> TaskService::CreateTask(const task::CreateTaskRequest& r) {
  if (containers_.count(r.id())) return AlreadyExists("container {}", r.id());
  RuncOptions opts = config_.default_options;
  if (!r.options().type_url().empty()) {
    BERTH_ASSIGN_OR_RETURN(opts, UnpackOptions(r.options()));
  }
  BERTH_RETURN_IF_ERROR(WriteOptions(r.bundle(), opts));

  auto c = std::make_unique<Container>();
  c->id = r.id();
  c->bundle = r.bundle();
  c->options = opts;
  c->runtime = std::make_unique<OciRuntime>(RuntimeConfigFor(opts, config_.ns, r.bundle()));
  c->init.stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  if (r.rootfs_size() > 0) {
    c->rootfs = r.bundle() + "/rootfs";
    if (::mkdir(c->rootfs.c_str(), 0711) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + c->rootfs, errno);
    Status st = mount::MountAll(mount::FromProto(r.rootfs()), c->rootfs);
    if (!st.ok()) return st.Wrap("failed to mount rootfs component");
  }
  if (auto prepared = PrepareCriuConfig(r.bundle()); prepared.ok()) {
    c->criu_config = *prepared;
  } else {
    log::Warn("criu config for the task's stdio", {{"id", r.id()}, {"error", prepared.status().ToString()}});
  }
  if (!r.checkpoint().empty()) {
    // As containerd's shim: nothing runs yet; Start restores the checkpoint.
    CriuOptions restore;
    restore.image_path = r.checkpoint();
    restore.work_path = opts.criu_work_path().empty() ? r.bundle() + "/criu-work" : opts.criu_work_path();
    restore.parent_path = r.parent_checkpoint();
    c->restore = std::move(restore);
    return Created(std::move(c), r, 0);
  }
  std::string pid_file = r.bundle() + "/init.pid";
  Status st = WithStdio(c->init, [&](const ChildStdio& stdio, const std::string& console) {
    CreateOptions co;
    co.bundle = r.bundle();
    co.pid_file = pid_file;
    co.console_socket = console;
    co.no_pivot = opts.no_pivot_root();
    co.no_new_keyring = opts.no_new_keyring();
    co.stdio = stdio;
    return c->runtime->Create(r.id(), co);
  });
  Result<int> pid = st.ok() ? ReadPidFile(pid_file) : Result<int>(st);
  if (!pid.ok()) {
    c->init.CloseIo();
    if (st.ok()) c->runtime->Delete(r.id(), true).IgnoreError();
    if (!c->rootfs.empty()) mount::UnmountAll(c->rootfs).IgnoreError();
    return st.ok() ? pid.status() : RuntimeFailure("OCI runtime create failed", st);
  }
  c->init.pid = *pid;
  if (auto cg = CgroupOfPid(*pid, config_.cgroup_root); cg.ok()) c->cgroup = *cg;
  return Created(std::move(c), r, *pid);
}

Result<task::CreateTaskResponse> TaskService::Created(std::unique_ptr<Container> c, const task::CreateTaskRequest& r,
                                                      int pid) {
  ev::TaskCreate e;
  e.set_container_id(r.id());
  e.set_bundle(r.bundle());
  *e.mutable_rootfs() = r.rootfs();
  auto* io = e.mutable_io();
  io->set_stdin(r.stdin());
  io->set_stdout(r.stdout());
  io->set_stderr(r.stderr());
  io->set_terminal(r.terminal());
  e.set_checkpoint(r.checkpoint());
  e.set_pid(static_cast<uint32_t>(pid));
  if (idle_timer_ != 0) loop_.CancelTimer(idle_timer_);
  idle_timer_ = 0;
  const bool restoring = c->restore.has_value();
  containers_[r.id()] = std::move(c);
  publisher_.Publish("/tasks/create", e);
  log::Info(restoring ? "task created from a checkpoint" : "task created", {{"id", r.id()}, {"pid", pid}});

  task::CreateTaskResponse resp;
  resp.set_pid(static_cast<uint32_t>(pid));
  return resp;
}

void TaskService::WatchCgroup(Container& c) {
  if (c.cgroup.empty() && c.init.pid > 0) {
    if (auto cg = CgroupOfPid(c.init.pid, config_.cgroup_root); cg.ok()) c.cgroup = *cg;
  }
  if (c.cgroup.empty() || c.oom) return;
  std::string id = c.id;
  c.oom = std::make_unique<OomWatcher>(loop_, [this, id] {
    ev::TaskOOM e;
    e.set_container_id(id);
    log::Info("oom", {{"id", id}});
    publisher_.Publish("/tasks/oom", e);
  });
  if (Status st = c.oom->Start(c.cgroup); !st.ok()) {
    log::Warn("add cgroup to OOM monitor", {{"id", id}, {"error", st.ToString()}});
    c.oom.reset();
  }
}

Status TaskService::StartInit(Container& c) {
  Process& p = c.init;
  switch (p.state) {
    case ProcessState::kCreated: break;
    case ProcessState::kRunning: return FailedPrecondition("cannot start a running process");
    case ProcessState::kPaused: return FailedPrecondition("cannot start a paused process");
    case ProcessState::kStopped: return FailedPrecondition("cannot start a stopped process");
    case ProcessState::kDeleted: return NotFound("process {} deleted", c.id);
  }
  if (c.restore) {
    BERTH_RETURN_IF_ERROR(RestoreInit(c));
  } else if (Status st = c.runtime->Start(c.id); !st.ok()) {
    return RuntimeFailure("OCI runtime start failed", st);
  }
  // An init that already exited (and was reaped meanwhile) is stopped, not running.
  if (p.state == ProcessState::kCreated) p.state = ProcessState::kRunning;
  WatchCgroup(c);
  ev::TaskStart e;
  e.set_container_id(c.id);
  e.set_pid(static_cast<uint32_t>(p.pid));
  publisher_.Publish("/tasks/start", e);
  return Status::Ok();
}

Status TaskService::StartExec(Container& c, Process& p) {
  switch (p.state) {
    case ProcessState::kCreated: break;
    case ProcessState::kRunning: case ProcessState::kPaused:
      return FailedPrecondition("cannot start a running process");
    case ProcessState::kStopped: return FailedPrecondition("cannot start a stopped process");
    case ProcessState::kDeleted: return NotFound("process {} deleted", p.id);
  }
  std::string spec_path = c.bundle + "/." + p.id + ".process.json";
  std::string pid_file = c.bundle + "/" + p.id + ".pid";
  BERTH_RETURN_IF_ERROR(files::WriteFile(spec_path, p.spec_json));
  Status st = WithStdio(p, [&](const ChildStdio& stdio, const std::string& console) {
    ExecOptions eo;
    eo.process_json = spec_path;
    eo.pid_file = pid_file;
    eo.console_socket = console;
    eo.stdio = stdio;
    return c.runtime->Exec(c.id, eo);
  });
  ::unlink(spec_path.c_str());
  Result<int> pid = st.ok() ? ReadPidFile(pid_file) : Result<int>(st);
  ::unlink(pid_file.c_str());
  if (!pid.ok()) {
    p.CloseIo();
    // As containerd: a failed start releases the waiters (exit status 0).
    for (auto& w : p.waiters) p.AnswerWait(w);
    p.waiters.clear();
    return st.ok() ? pid.status() : RuntimeFailure("OCI runtime exec failed", st);
  }
  p.pid = *pid;
  p.state = ProcessState::kRunning;
  ev::TaskExecStarted e;
  e.set_container_id(c.id);
  e.set_exec_id(p.id);
  e.set_pid(static_cast<uint32_t>(p.pid));
  publisher_.Publish("/tasks/exec-started", e);
  return Status::Ok();
}

Result<task::StartResponse> TaskService::Start(const task::StartRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  BERTH_RETURN_IF_ERROR(p->is_init() ? StartInit(*c) : StartExec(*c, *p));
  task::StartResponse resp;
  resp.set_pid(static_cast<uint32_t>(p->pid));
  return resp;
}

Result<task::DeleteResponse> TaskService::Delete(const task::DeleteRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  if (p->state == ProcessState::kRunning) return FailedPrecondition("cannot delete a running process");
  if (p->state == ProcessState::kPaused) return FailedPrecondition("cannot delete a paused process");
  task::DeleteResponse resp;
  resp.set_pid(static_cast<uint32_t>(p->pid));
  resp.set_exit_status(p->exit_status);
  SetTime(resp.mutable_exited_at(), *p);
  if (!p->is_init()) {
    p->CloseIo();
    for (auto& w : p->waiters) p->AnswerWait(w);
    c->execs.erase(r.exec_id());
    return resp;
  }
  Status st = c->runtime->Delete(c->id, false);
  if (!st.ok() && st.message().find("does not exist") == std::string::npos) {
    return RuntimeFailure("failed to delete task", st);
  }
  if (c->oom) c->oom->Stop();
  for (auto& [_, e] : c->execs) {
    e->CloseIo();
    for (auto& w : e->waiters) e->AnswerWait(w);
  }
  p->CloseIo();
  for (auto& w : p->waiters) p->AnswerWait(w);
  p->waiters.clear();
  if (!c->rootfs.empty()) {
    if (Status um = mount::UnmountAll(c->rootfs); !um.ok()) {
      log::Warn("failed to cleanup rootfs mount", {{"id", c->id}, {"error", um.ToString()}});
    }
  }
  ev::TaskDelete e;
  e.set_container_id(c->id);
  e.set_pid(resp.pid());
  e.set_exit_status(resp.exit_status());
  if (resp.has_exited_at()) *e.mutable_exited_at() = resp.exited_at();
  containers_.erase(r.id());
  publisher_.Publish("/tasks/delete", e);
  log::Info("task deleted", {{"id", r.id()}});
  if (containers_.empty()) ScheduleIdleExit();
  return resp;
}

void TaskService::ScheduleIdleExit() {
  if (idle_timer_ != 0) loop_.CancelTimer(idle_timer_);
  idle_timer_ = loop_.AddTimer(config_.idle_exit, [this] {
    idle_timer_ = 0;
    if (containers_.empty()) {
      log::Info("no task left and no shutdown request: exiting");
      shutdown_();
    }
  });
}

Result<task::StateResponse> TaskService::State(const task::StateRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  ProcessState st = p->state;
  if (!p->is_init() && c->init.state == ProcessState::kPaused) st = ProcessState::kPaused;
  task::StateResponse resp;
  resp.set_id(c->IdOf(*p));
  resp.set_bundle(c->bundle);
  resp.set_pid(static_cast<uint32_t>(p->pid));
  resp.set_status(ToProtoStatus(st));
  resp.set_stdin(p->stdio.in);
  resp.set_stdout(p->stdio.out);
  resp.set_stderr(p->stdio.err);
  resp.set_terminal(p->stdio.terminal);
  resp.set_exit_status(p->exit_status);
  SetTime(resp.mutable_exited_at(), *p);
  resp.set_exec_id(r.exec_id());
  return resp;
}

Result<task::PidsResponse> TaskService::Pids(const task::PidsRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(std::vector<int> pids, c->runtime->Ps(c->id));
  task::PidsResponse resp;
  for (int pid : pids) {
    auto* info = resp.add_processes();
    info->set_pid(static_cast<uint32_t>(pid));
    for (auto& [id, e] : c->execs) {
      if (e->pid == pid) {
        containerd::runc::v1::ProcessDetails d;
        d.set_exec_id(id);
        PackAny(d, info->mutable_info());
        break;
      }
    }
  }
  return resp;
}

Status TaskService::Pause(const task::PauseRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  switch (c->init.state) {
    case ProcessState::kRunning: break;
    case ProcessState::kCreated: return FailedPrecondition("cannot pause task in created state");
    case ProcessState::kPaused: return FailedPrecondition("cannot pause a paused container");
    default: return FailedPrecondition("cannot pause a stopped container");
  }
  if (Status st = c->runtime->Pause(c->id); !st.ok()) return RuntimeFailure("OCI runtime pause failed", st);
  c->init.state = ProcessState::kPaused;
  ev::TaskPaused e;
  e.set_container_id(c->id);
  publisher_.Publish("/tasks/paused", e);
  return Status::Ok();
}

Status TaskService::Resume(const task::ResumeRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  switch (c->init.state) {
    case ProcessState::kPaused: break;
    case ProcessState::kCreated: return FailedPrecondition("cannot resume task in created state");
    case ProcessState::kRunning: return FailedPrecondition("cannot resume a running process");
    default: return FailedPrecondition("cannot resume a stopped container");
  }
  if (Status st = c->runtime->Resume(c->id); !st.ok()) return RuntimeFailure("OCI runtime resume failed", st);
  c->init.state = ProcessState::kRunning;
  ev::TaskResumed e;
  e.set_container_id(c->id);
  publisher_.Publish("/tasks/resumed", e);
  return Status::Ok();
}

Status TaskService::Kill(const task::KillRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  if (p->is_init()) {
    if (p->state == ProcessState::kDeleted) return NotFound("process already finished");
    return KillError(c->runtime->Kill(c->id, static_cast<int>(r.signal()), r.all()));
  }
  if (p->pid == 0) return FailedPrecondition("process not created");
  if (p->exited) return NotFound("process already finished");
  if (::kill(p->pid, static_cast<int>(r.signal())) != 0) {
    if (errno == ESRCH) return NotFound("process already finished");
    return ErrnoStatus("exec kill error", errno);
  }
  return Status::Ok();
}

Status TaskService::Exec(const task::ExecProcessRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  if (r.exec_id().empty()) return InvalidArgument("exec id must not be empty");
  // Files in the bundle are named after it (<id>.pid, .<id>.process.json): a path is refused
  // here too, whoever drives the shim.
  BERTH_RETURN_IF_ERROR(identifiers::Validate(r.exec_id()).Wrap("invalid exec id"));
  if (c->execs.count(r.exec_id())) return AlreadyExists("id {}", r.exec_id());
  switch (c->init.state) {
    case ProcessState::kCreated: case ProcessState::kRunning: break;
    case ProcessState::kPaused: return FailedPrecondition("cannot exec in a paused state");
    default: return FailedPrecondition("cannot exec in a stopped state");
  }
  // Parsing is iterative, but dumping it again later recurses: a spec nested deeper than any
  // real one is refused rather than allowed to overflow the shim's stack.
  constexpr int kMaxSpecDepth = 64;
  bool too_deep = false;
  auto spec = nlohmann::json::parse(
      r.spec().value(),
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxSpecDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return InvalidArgument("exec {}: the process spec is nested too deep", r.exec_id());
  if (!spec.is_object()) return InvalidArgument("exec {}: the process spec is not JSON", r.exec_id());
  spec["terminal"] = r.terminal();
  auto p = std::make_unique<Process>();
  p->id = r.exec_id();
  p->stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
  p->spec_json = spec.dump();
  c->execs[r.exec_id()] = std::move(p);
  ev::TaskExecAdded e;
  e.set_container_id(c->id);
  e.set_exec_id(r.exec_id());
  publisher_.Publish("/tasks/exec-added", e);
  return Status::Ok();
}

Status TaskService::ResizePty(const task::ResizePtyRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  if (!p->console) return Status::Ok();
  return p->console->Resize(r.width(), r.height());
}

Status TaskService::CloseIO(const task::CloseIORequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  BERTH_ASSIGN_OR_RETURN(Process * p, c->Find(r.exec_id()));
  if (p->console) p->console->CloseStdin();
  if (p->io) p->io->CloseStdin();
  return Status::Ok();
}

Status TaskService::Update(const task::UpdateTaskRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  if (c->init.state == ProcessState::kStopped || c->init.state == ProcessState::kDeleted) {
    return FailedPrecondition("cannot update a stopped container");
  }
  if (Status st = c->runtime->Update(c->id, r.resources().value()); !st.ok()) {
    return RuntimeFailure("OCI runtime update failed", st);
  }
  return Status::Ok();
}

Result<task::StatsResponse> TaskService::Stats(const task::StatsRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  if (c->cgroup.empty() && c->init.pid > 0) {
    if (auto cg = CgroupOfPid(c->init.pid, config_.cgroup_root); cg.ok()) c->cgroup = *cg;
  }
  if (c->cgroup.empty()) return NotFound("cgroup does not exist");
  task::StatsResponse resp;
  if (c->cgroup.unified) {
    BERTH_ASSIGN_OR_RETURN(auto m, StatV2(c->cgroup));
    PackAny(m, resp.mutable_stats());
  } else {
    BERTH_ASSIGN_OR_RETURN(auto m, StatV1(c->cgroup));
    PackAny(m, resp.mutable_stats());
  }
  return resp;
}

Result<task::ConnectResponse> TaskService::Connect(const task::ConnectRequest& r) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
  if (auto it = containers_.find(r.id()); it != containers_.end()) {
    resp.set_task_pid(static_cast<uint32_t>(it->second->init.pid));
  }
  return resp;
}

Status TaskService::Shutdown(const task::ShutdownRequest&) {
  // As containerd: a shim still serving a task ignores the request.
  if (!containers_.empty()) return Status::Ok();
  shutdown_();
  return Status::Ok();
}

void TaskService::Wait(const task::WaitRequest& r, ttrpc::Responder responder) {
  auto c = Get(r.id());
  if (!c.ok()) {
    responder.Fail(c.status());
    return;
  }
  auto p = (*c)->Find(r.exec_id());
  if (!p.ok()) {
    responder.Fail(p.status());
    return;
  }
  if ((*p)->exited) {
    (*p)->AnswerWait(responder);
    return;
  }
  (*p)->waiters.push_back(std::move(responder));
}

Status TaskService::RestoreInit(Container& c) {
  Process& p = c.init;
  const std::string pid_file = c.bundle + "/init.pid";
  std::error_code ec;
  if (c.restore->work_path == c.bundle + "/criu-work") std::filesystem::remove_all(c.restore->work_path, ec);
  bool config_written = false;
  StdioKeys keys;
  if (c.criu_config && !p.stdio.terminal) {
    // The dumped task's stdio files become the new task's (criu's fds 0..2 are runc's stdio).
    auto loaded = LoadStdioKeys(c.restore->image_path);
    if (!loaded.ok() && !loaded.status().Is(Errc::kNotFound)) return loaded.status();
    if (loaded.ok()) {
      keys = std::move(*loaded);
      BERTH_RETURN_IF_ERROR(WriteRestoreConfig(c.bundle, keys));
      config_written = true;
    }
  }
  Status st = WithStdio(p, [&](const ChildStdio& stdio, const std::string& console) {
    // A dumped fifo restores only onto a fifo: a pipe stands in for other stdio.
    ChildStdio child = stdio;
    std::vector<UniqueFd> ends;
    int* slots[3] = {&child.in, &child.out, &child.err};
    for (const auto& [fd, k] : keys) {
      struct stat info{};
      if (!k.fifo || (*slots[fd] >= 0 && ::fstat(*slots[fd], &info) == 0 && info.st_mode == k.mode)) continue;
      UniqueFd end;
      if (fd == 0) {
        BERTH_ASSIGN_OR_RETURN(end, StdioPipe::EmptyInput(c.bundle, k.mode));
      } else {
        UniqueFd target(*slots[fd] >= 0 ? ::fcntl(*slots[fd], F_DUPFD_CLOEXEC, 3) : -1);
        BERTH_ASSIGN_OR_RETURN(auto pipe, StdioPipe::Output(loop_, c.bundle, k.mode, std::move(target), &end));
        p.pipes.push_back(std::move(pipe));
      }
      *slots[fd] = end.get();
      ends.push_back(std::move(end));
    }
    RestoreOptions ro;
    ro.bundle = c.bundle;
    ro.pid_file = pid_file;
    ro.console_socket = console;
    ro.no_pivot = c.options.no_pivot_root();
    ro.criu = *c.restore;
    ro.criu.shell_job = p.stdio.terminal;  // the restored terminal is the shim's new console
    ro.stdio = child;
    return c.runtime->Restore(c.id, ro);
  });
  if (config_written) ClearCriuConfig(c.bundle);
  Result<int> pid = st.ok() ? ReadPidFile(pid_file) : Result<int>(st);
  if (!pid.ok()) {
    p.CloseIo();
    if (!st.ok()) return CriuFailure(c, "OCI runtime restore failed", st, c.restore->work_path, "restore.log");
    return pid.status();
  }
  p.pid = *pid;
  if (auto cg = CgroupOfPid(*pid, config_.cgroup_root); cg.ok()) c.cgroup = *cg;
  c.restore.reset();
  log::Info("task restored", {{"id", c.id}, {"pid", *pid}});
  return Status::Ok();
}

Status TaskService::Checkpoint(const task::CheckpointTaskRequest& r) {
  BERTH_ASSIGN_OR_RETURN(Container * c, Get(r.id()));
  switch (c->init.state) {
    case ProcessState::kRunning: case ProcessState::kPaused: break;
    case ProcessState::kCreated: return FailedPrecondition("cannot checkpoint a task in created state");
    default: return FailedPrecondition("cannot checkpoint a stopped container");
  }
  containerd::runc::v1::CheckpointOptions o;
  if (!r.options().type_url().empty() && !UnpackAny(r.options(), &o)) {
    return InvalidArgument("checkpoint options: expected containerd.runc.v1.CheckpointOptions, got {:?}",
                           r.options().type_url());
  }
  CriuOptions co;
  co.image_path = r.path().empty() ? o.image_path() : r.path();
  if (co.image_path.empty()) return InvalidArgument("checkpoint of {}: no image path", c->id);
  const bool own_work = o.work_path().empty();
  co.work_path = own_work ? c->bundle + "/criu-work" : o.work_path();
  co.tcp_established = o.open_tcp();
  co.ext_unix_sockets = o.external_unix_sockets();
  // A terminal belongs to the shim, outside the container: criu must treat it as external.
  co.shell_job = o.terminal() || c->init.stdio.terminal;
  co.file_locks = o.file_locks();
  co.empty_namespaces.assign(o.empty_namespaces().begin(), o.empty_namespaces().end());
  co.cgroups_mode = o.cgroups_mode();
  std::error_code ec;
  if (own_work) std::filesystem::remove_all(co.work_path, ec);
  CheckpointActions act;
  act.leave_running = !o.exit();
  StdioKeys init_keys;
  if (c->criu_config) {
    // The stdio files are outside the container: criu dumps them as external files.
    StdioKeys all;
    if (!c->init.stdio.terminal) all = init_keys = ExternalStdio(c->init.pid, c->init.stdio);
    int n = 0;
    for (const auto& [_, e] : c->execs) {
      if (e->state != ProcessState::kRunning || e->stdio.terminal) continue;
      for (const auto& [fd, key] : ExternalStdio(e->pid, e->stdio)) all[3 + 3 * n + fd] = key;
      ++n;
    }
    BERTH_RETURN_IF_ERROR(WriteDumpConfig(c->bundle, all));
  }
  Status st = c->runtime->Checkpoint(c->id, co, act);
  if (c->criu_config) ClearCriuConfig(c->bundle);
  if (st.ok() && !init_keys.empty()) st = SaveStdioKeys(co.image_path, init_keys);
  Status out = st.ok() ? Status::Ok() : CriuFailure(*c, "checkpoint failed", st, co.work_path, "dump.log");
  if (own_work) std::filesystem::remove_all(co.work_path, ec);
  if (out.ok()) log::Info("task checkpointed", {{"id", c->id}, {"path", co.image_path}, {"exit", o.exit()}});
  return out;
}

Status TaskService::CriuFailure(const Container& c, std::string_view what, const Status& st, const std::string& work,
                                const std::string& log_name) {
  // Keep criu's own log beside the bundle's (containerd's criu-dump.log).
  const std::string kept = c.bundle + "/criu-" + log_name;
  std::error_code ec;
  std::filesystem::copy_file(work + "/" + log_name, kept, std::filesystem::copy_options::overwrite_existing, ec);
  std::string first = st.message().substr(0, st.message().find('\n'));
  const std::string criu = c.options.criu_path().empty() ? "criu" : c.options.criu_path();
  auto check = RunProgram({criu, "check"});
  if (!check.ok() || check->exit_status != 0) {
    std::string why;
    if (!check.ok()) {
      why = check.status().message();
    } else if (check->exit_status == 127) {
      why = "not found";
    } else {
      // criu's verdict is its last line ("Looks good." or the reason it is unusable).
      std::string text = check->err + check->out;
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      why = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
      if (why.empty()) why = fmt::format("exit status {}", check->exit_status);
    }
    return FailedPrecondition("{}: criu is not usable on this machine (`{} check`: {}): {}", what, criu, why, first);
  }
  return Unknown("{}: {}{}", what, first, ec ? "" : " path= " + kept);
}

void TaskService::HandleExit(int pid, uint32_t status) {
  for (auto& [id, c] : containers_) {
    Process* p = c->ByPid(pid);
    if (p == nullptr || p->exited) continue;
    if (p->is_init()) {
      // Nothing of the container may outlive its init when it shares a pid namespace.
      if (ShouldKillAllOnExit(c->bundle)) {
        if (Status st = c->runtime->Kill(c->id, SIGKILL, true); !st.ok()) {
          log::Debug("kill --all after init exit", {{"id", c->id}, {"error", st.ToString()}});
        }
      }
      if (p->state == ProcessState::kPaused) c->runtime->Resume(c->id).IgnoreError();
    }
    p->SetExited(status);
    ev::TaskExit e;
    e.set_container_id(c->id);
    e.set_id(c->IdOf(*p));
    e.set_pid(static_cast<uint32_t>(pid));
    e.set_exit_status(status);
    *e.mutable_exited_at() = ToProto(p->exited_at);
    publisher_.Publish("/tasks/exit", e);
    log::Info("process exited", {{"id", c->id}, {"exec", p->id}, {"pid", pid}, {"status", status}});
    return;
  }
}

}  // namespace berth::shim
