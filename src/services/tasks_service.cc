#include "services/tasks_service.h"

#include <google/protobuf/util/time_util.h>

#include "common/filters.h"
#include "common/logging.h"
#include "metadata/containers.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

namespace {

namespace v1types = containerd::v1::types;

// The shim's view of a process, as the Tasks API reports it (containerd's getProcessState).
void ToProcess(const std::string& id, const containerd::task::v2::StateResponse& st, v1types::Process* out) {
  out->set_id(id);
  out->set_pid(st.pid());
  out->set_status(st.status());
  out->set_stdin(st.stdin());
  out->set_stdout(st.stdout());
  out->set_stderr(st.stderr());
  out->set_terminal(st.terminal());
  out->set_exit_status(st.exit_status());
  *out->mutable_exited_at() = st.exited_at();
}

Result<metadata::Container> GetContainer(metadata::Db& db, const std::string& ns, const std::string& id) {
  Result<metadata::Container> out = NotFound("container {}", id);
  BERTH_RETURN_IF_ERROR(db.View([&](metadata::Tx& tx) -> Status {
    out = metadata::containers::Get(tx, ns, id);
    return out.status();
  }));
  return out;
}

}  // namespace

Result<std::shared_ptr<runtime::ShimTask>> TasksService::TaskOf(const grpc::ServerContext& ctx,
                                                                const std::string& id, std::string* ns_out) {
  BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(ctx));
  BERTH_RETURN_IF_ERROR(GetContainer(db_, ns, id).status());
  if (ns_out != nullptr) *ns_out = ns;
  return tasks_.Get(ns, id);
}

grpc::Status TasksService::Create(grpc::ServerContext* ctx, const tasksapi::CreateTaskRequest* req,
                                  tasksapi::CreateTaskResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto container = GetContainer(db_, *ns, req->container_id());
  if (!container.ok()) return ToGrpc(container.status());
  if (req->has_checkpoint() && !req->checkpoint().digest().empty()) {
    return ToGrpc(NotImplemented("restoring a task from a checkpoint"));
  }
  runtime::CreateTaskOptions opts;
  opts.runtime = req->runtime_path().empty() ? container->runtime.name : req->runtime_path();
  opts.runtime_options = container->runtime.options;
  if (req->has_options()) opts.task_options = req->options();
  if (!container->spec) return ToGrpc(InvalidArgument("container {} has no spec", container->id));
  opts.spec_json = container->spec->value();
  for (const auto& m : req->rootfs()) {
    opts.rootfs.push_back(mount::Mount{m.type(), m.source(), {m.options().begin(), m.options().end()}});
  }
  // No rootfs in the request: the container's own snapshot, if it has one.
  if (opts.rootfs.empty() && !container->snapshot_key.empty()) {
    auto it = snapshotters_.find(container->snapshotter);
    if (it == snapshotters_.end()) {
      return ToGrpc(InvalidArgument("snapshotter {} of container {} not loaded", container->snapshotter, container->id));
    }
    auto mounts = it->second->Mounts(*ns, container->snapshot_key);
    if (!mounts.ok()) return ToGrpc(mounts.status());
    opts.rootfs = std::move(*mounts);
  }
  opts.stdin_path = req->stdin();
  opts.stdout_path = req->stdout();
  opts.stderr_path = req->stderr();
  opts.terminal = req->terminal();
  uint32_t pid = 0;
  auto task = tasks_.Create(*ns, container->id, opts, &pid);
  if (!task.ok()) {
    log::Warn("create task", {{"namespace", *ns}, {"id", container->id}, {"error", task.status().ToString()}});
    return ToGrpc(task.status());
  }
  resp->set_container_id(container->id);
  resp->set_pid(pid);
  return grpc::Status::OK;
}

grpc::Status TasksService::Start(grpc::ServerContext* ctx, const tasksapi::StartRequest* req,
                                 tasksapi::StartResponse* resp) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  auto started = (*task)->Start(req->exec_id());
  if (!started.ok()) return ToGrpc(started.status());
  resp->set_pid(started->pid());
  return grpc::Status::OK;
}

grpc::Status TasksService::Delete(grpc::ServerContext* ctx, const tasksapi::DeleteTaskRequest* req,
                                  tasksapi::DeleteResponse* resp) {
  std::string ns;
  auto task = TaskOf(*ctx, req->container_id(), &ns);
  if (!task.ok()) return ToGrpc(task.status());
  auto exit = tasks_.Delete(ns, req->container_id());
  if (!exit.ok()) return ToGrpc(exit.status());
  resp->set_pid(exit->pid());
  resp->set_exit_status(exit->exit_status());
  *resp->mutable_exited_at() = exit->exited_at();
  return grpc::Status::OK;
}

grpc::Status TasksService::DeleteProcess(grpc::ServerContext* ctx, const tasksapi::DeleteProcessRequest* req,
                                         tasksapi::DeleteResponse* resp) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  if (req->exec_id().empty()) return ToGrpc(InvalidArgument("exec id cannot be empty"));
  auto exit = (*task)->Delete(req->exec_id());
  if (!exit.ok()) return ToGrpc(exit.status());
  resp->set_id(req->exec_id());
  resp->set_pid(exit->pid());
  resp->set_exit_status(exit->exit_status());
  *resp->mutable_exited_at() = exit->exited_at();
  return grpc::Status::OK;
}

grpc::Status TasksService::Get(grpc::ServerContext* ctx, const tasksapi::GetRequest* req,
                               tasksapi::GetResponse* resp) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  auto st = (*task)->State(req->exec_id());
  if (!st.ok()) return ToGrpc(st.status());
  ToProcess(req->exec_id().empty() ? req->container_id() : req->exec_id(), *st, resp->mutable_process());
  return grpc::Status::OK;
}

grpc::Status TasksService::List(grpc::ServerContext* ctx, const tasksapi::ListTasksRequest*,
                                tasksapi::ListTasksResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  for (const auto& task : tasks_.List(*ns)) {
    auto st = task->State("");
    if (!st.ok()) {
      // A task being deleted right now is simply not listed (containerd's race handling).
      if (!st.status().Is(Errc::kNotFound)) {
        log::Warn("state of task", {{"namespace", *ns}, {"id", task->id()}, {"error", st.status().ToString()}});
      }
      continue;
    }
    ToProcess(task->id(), *st, resp->add_tasks());
  }
  return grpc::Status::OK;
}

grpc::Status TasksService::Kill(grpc::ServerContext* ctx, const tasksapi::KillRequest* req,
                                google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  return ToGrpc((*task)->Kill(req->exec_id(), req->signal(), req->all()));
}

grpc::Status TasksService::Exec(grpc::ServerContext* ctx, const tasksapi::ExecProcessRequest* req,
                                google::protobuf::Empty*) {
  if (req->exec_id().empty()) return ToGrpc(InvalidArgument("exec id cannot be empty"));
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  containerd::task::v2::ExecProcessRequest shim_req;
  shim_req.set_id(req->container_id());
  shim_req.set_exec_id(req->exec_id());
  shim_req.set_terminal(req->terminal());
  shim_req.set_stdin(req->stdin());
  shim_req.set_stdout(req->stdout());
  shim_req.set_stderr(req->stderr());
  if (req->has_spec()) *shim_req.mutable_spec() = req->spec();
  return ToGrpc((*task)->Exec(shim_req));
}

grpc::Status TasksService::ResizePty(grpc::ServerContext* ctx, const tasksapi::ResizePtyRequest* req,
                                     google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  return ToGrpc((*task)->ResizePty(req->exec_id(), req->width(), req->height()));
}

grpc::Status TasksService::CloseIO(grpc::ServerContext* ctx, const tasksapi::CloseIORequest* req,
                                   google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  if (!req->stdin()) return grpc::Status::OK;
  return ToGrpc((*task)->CloseIO(req->exec_id(), true));
}

grpc::Status TasksService::Pause(grpc::ServerContext* ctx, const tasksapi::PauseTaskRequest* req,
                                 google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  return ToGrpc((*task)->Pause());
}

grpc::Status TasksService::Resume(grpc::ServerContext* ctx, const tasksapi::ResumeTaskRequest* req,
                                  google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  return ToGrpc((*task)->Resume());
}

grpc::Status TasksService::ListPids(grpc::ServerContext* ctx, const tasksapi::ListPidsRequest* req,
                                    tasksapi::ListPidsResponse* resp) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  auto pids = (*task)->Pids();
  if (!pids.ok()) return ToGrpc(pids.status());
  *resp->mutable_processes() = pids->processes();
  return grpc::Status::OK;
}

grpc::Status TasksService::Checkpoint(grpc::ServerContext* ctx, const tasksapi::CheckpointTaskRequest* req,
                                      tasksapi::CheckpointTaskResponse*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  return ToGrpc(NotImplemented("checkpoint of task {}", req->container_id()));
}

grpc::Status TasksService::Update(grpc::ServerContext* ctx, const tasksapi::UpdateTaskRequest* req,
                                  google::protobuf::Empty*) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  containerd::task::v2::UpdateTaskRequest shim_req;
  shim_req.set_id(req->container_id());
  if (req->has_resources()) *shim_req.mutable_resources() = req->resources();
  *shim_req.mutable_annotations() = req->annotations();
  return ToGrpc((*task)->Update(shim_req));
}

grpc::Status TasksService::Metrics(grpc::ServerContext* ctx, const tasksapi::MetricsRequest* req,
                                   tasksapi::MetricsResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  auto filter = filters::ParseAll(req->filters());
  if (!filter.ok()) return ToGrpc(filter.status());
  for (const auto& task : tasks_.List(*ns)) {
    filters::FuncAdaptor adaptor([&](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "id") return task->id();
      if (path[0] == "namespace") return task->ns();
      return std::nullopt;
    });
    if (!(*filter)->Match(adaptor)) continue;
    auto collected = google::protobuf::util::TimeUtil::GetCurrentTime();
    auto stats = task->Stats();
    if (!stats.ok()) {
      if (!stats.status().Is(Errc::kNotFound)) {
        log::Warn("collecting metrics", {{"namespace", *ns}, {"id", task->id()}, {"error", stats.status().ToString()}});
      }
      continue;
    }
    auto* m = resp->add_metrics();
    *m->mutable_timestamp() = collected;
    m->set_id(task->id());
    if (stats->has_stats()) *m->mutable_data() = stats->stats();
  }
  return grpc::Status::OK;
}

grpc::Status TasksService::Wait(grpc::ServerContext* ctx, const tasksapi::WaitRequest* req,
                                tasksapi::WaitResponse* resp) {
  auto task = TaskOf(*ctx, req->container_id());
  if (!task.ok()) return ToGrpc(task.status());
  auto exit = (*task)->Wait(req->exec_id(), [ctx] { return ctx->IsCancelled(); });
  if (!exit.ok()) return ToGrpc(exit.status());
  resp->set_exit_status(exit->exit_status());
  *resp->mutable_exited_at() = exit->exited_at();
  return grpc::Status::OK;
}

}  // namespace berth::services
