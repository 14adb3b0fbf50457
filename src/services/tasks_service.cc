#include "services/tasks_service.h"

#include <google/protobuf/util/time_util.h>

#include "common/filters.h"
#include "common/logging.h"
#include "mount/mount_proto.h"
#include "runtime/shim_stats.h"
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

}  // namespace

Result<std::shared_ptr<runtime::ShimTask>> TasksService::TaskOf(const grpc::ServerContext& ctx,
                                                                const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(ctx));
  return tasks_.Get(ns, id);
}

grpc::Status TasksService::Create(grpc::ServerContext* ctx, const tasksapi::CreateTaskRequest* req,
                                  tasksapi::CreateTaskResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    control::TaskRequest task_req;
    if (req->has_checkpoint() && !req->checkpoint().digest().empty()) {
      const auto& d = req->checkpoint();
      task_req.checkpoint = checkpoint::Blob{d.media_type(), d.digest(), d.size()};
    }
    task_req.container_id = req->container_id();
    task_req.runtime_path = req->runtime_path();
    if (req->has_options()) task_req.options = req->options();
    task_req.rootfs = mount::FromProto(req->rootfs());
    task_req.stdin_path = req->stdin();
    task_req.stdout_path = req->stdout();
    task_req.stderr_path = req->stderr();
    task_req.terminal = req->terminal();
    BERTH_ASSIGN_OR_RETURN(control::CreatedTask created, tasks_.Create(ns, task_req));
    resp->set_container_id(req->container_id());
    resp->set_pid(created.pid);
    return {};
  });
}

grpc::Status TasksService::Start(grpc::ServerContext* ctx, const tasksapi::StartRequest* req,
                                 tasksapi::StartResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(uint32_t pid, tasks_.Start(ns, req->container_id(), req->exec_id()));
    resp->set_pid(pid);
    return {};
  });
}

grpc::Status TasksService::Delete(grpc::ServerContext* ctx, const tasksapi::DeleteTaskRequest* req,
                                  tasksapi::DeleteResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto exit, tasks_.Delete(ns, req->container_id()));
    resp->set_pid(exit.pid());
    resp->set_exit_status(exit.exit_status());
    *resp->mutable_exited_at() = exit.exited_at();
    return {};
  });
}

grpc::Status TasksService::DeleteProcess(grpc::ServerContext* ctx, const tasksapi::DeleteProcessRequest* req,
                                         tasksapi::DeleteResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    if (req->exec_id().empty()) return InvalidArgument("exec id cannot be empty");
    BERTH_ASSIGN_OR_RETURN(auto exit, task->Delete(req->exec_id()));
    resp->set_id(req->exec_id());
    resp->set_pid(exit.pid());
    resp->set_exit_status(exit.exit_status());
    *resp->mutable_exited_at() = exit.exited_at();
    return {};
  });
}

grpc::Status TasksService::Get(grpc::ServerContext* ctx, const tasksapi::GetRequest* req,
                               tasksapi::GetResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    BERTH_ASSIGN_OR_RETURN(auto st, task->State(req->exec_id()));
    ToProcess(req->exec_id().empty() ? req->container_id() : req->exec_id(), st, resp->mutable_process());
    return {};
  });
}

grpc::Status TasksService::List(grpc::ServerContext* ctx, const tasksapi::ListTasksRequest*,
                                tasksapi::ListTasksResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    for (const auto& task : tasks_.List(ns)) {
      auto st = task->State("");
      if (!st.ok()) {
        // A task being deleted right now is simply not listed (containerd's race handling).
        if (!st.status().Is(Errc::kNotFound)) {
          log::Warn("state of task", {{"namespace", ns}, {"id", task->id()}, {"error", st.status().ToString()}});
        }
        continue;
      }
      ToProcess(task->id(), *st, resp->add_tasks());
    }
    return {};
  });
}

grpc::Status TasksService::Kill(grpc::ServerContext* ctx, const tasksapi::KillRequest* req,
                                google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    return task->Kill(req->exec_id(), req->signal(), req->all());
  });
}

grpc::Status TasksService::Exec(grpc::ServerContext* ctx, const tasksapi::ExecProcessRequest* req,
                                google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    if (req->exec_id().empty()) return InvalidArgument("exec id cannot be empty");
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    containerd::task::v2::ExecProcessRequest shim_req;
    shim_req.set_id(req->container_id());
    shim_req.set_exec_id(req->exec_id());
    shim_req.set_terminal(req->terminal());
    shim_req.set_stdin(req->stdin());
    shim_req.set_stdout(req->stdout());
    shim_req.set_stderr(req->stderr());
    if (req->has_spec()) *shim_req.mutable_spec() = req->spec();
    return tasks_.Exec(ns, req->container_id(), shim_req);
  });
}

grpc::Status TasksService::ResizePty(grpc::ServerContext* ctx, const tasksapi::ResizePtyRequest* req,
                                     google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    return task->ResizePty(req->exec_id(), req->width(), req->height());
  });
}

grpc::Status TasksService::CloseIO(grpc::ServerContext* ctx, const tasksapi::CloseIORequest* req,
                                   google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    if (!req->stdin()) return {};
    return task->CloseIO(req->exec_id(), true);
  });
}

grpc::Status TasksService::Pause(grpc::ServerContext* ctx, const tasksapi::PauseTaskRequest* req,
                                 google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    return task->Pause();
  });
}

grpc::Status TasksService::Resume(grpc::ServerContext* ctx, const tasksapi::ResumeTaskRequest* req,
                                  google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    return task->Resume();
  });
}

grpc::Status TasksService::ListPids(grpc::ServerContext* ctx, const tasksapi::ListPidsRequest* req,
                                    tasksapi::ListPidsResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    BERTH_ASSIGN_OR_RETURN(auto pids, task->Pids());
    *resp->mutable_processes() = pids.processes();
    return {};
  });
}

grpc::Status TasksService::Checkpoint(grpc::ServerContext* ctx, const tasksapi::CheckpointTaskRequest* req,
                                      tasksapi::CheckpointTaskResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    control::CheckpointRequest creq;
    creq.container_id = req->container_id();
    if (req->has_options()) creq.options = req->options();
    creq.lease = LeaseOf(*ctx);
    BERTH_ASSIGN_OR_RETURN(auto blobs, tasks_.Checkpoint(ns, creq));
    for (const auto& b : blobs) {
      auto* d = resp->add_descriptors();
      d->set_media_type(b.media_type);
      d->set_digest(b.digest);
      d->set_size(b.size);
    }
    return {};
  });
}

grpc::Status TasksService::Update(grpc::ServerContext* ctx, const tasksapi::UpdateTaskRequest* req,
                                  google::protobuf::Empty*) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    containerd::task::v2::UpdateTaskRequest shim_req;
    shim_req.set_id(req->container_id());
    if (req->has_resources()) *shim_req.mutable_resources() = req->resources();
    *shim_req.mutable_annotations() = req->annotations();
    return task->Update(shim_req);
  });
}

grpc::Status TasksService::Metrics(grpc::ServerContext* ctx, const tasksapi::MetricsRequest* req,
                                   tasksapi::MetricsResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(req->filters()));
    std::vector<std::shared_ptr<runtime::ShimTask>> matched;
    for (const auto& task : tasks_.List(ns)) {
      filters::FuncAdaptor adaptor([&](const std::vector<std::string>& path) -> std::optional<std::string> {
        if (path.empty()) return std::nullopt;
        if (path[0] == "id") return task->id();
        if (path[0] == "namespace") return task->ns();
        return std::nullopt;
      });
      if (filter->Match(adaptor)) matched.push_back(task);
    }
    // All shims asked at once: a hung one costs one bound, not one per task after it.
    auto collected = google::protobuf::util::TimeUtil::GetCurrentTime();
    auto stats = runtime::StatsOfAll(matched, runtime::ShimTask::kQuickCall);
    for (size_t i = 0; i < matched.size(); ++i) {
      if (!stats[i].ok()) {
        if (!stats[i].status().Is(Errc::kNotFound)) {
          log::Warn("collecting metrics",
                    {{"namespace", ns}, {"id", matched[i]->id()}, {"error", stats[i].status().ToString()}});
        }
        continue;
      }
      auto* m = resp->add_metrics();
      *m->mutable_timestamp() = collected;
      m->set_id(matched[i]->id());
      if (stats[i]->has_stats()) *m->mutable_data() = stats[i]->stats();
    }
    return {};
  });
}

grpc::Status TasksService::Wait(grpc::ServerContext* ctx, const tasksapi::WaitRequest* req,
                                tasksapi::WaitResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto task, TaskOf(*ctx, req->container_id()));
    BERTH_ASSIGN_OR_RETURN(auto exit, task->Wait(req->exec_id(), [ctx] { return ctx->IsCancelled(); }));
    resp->set_exit_status(exit.exit_status());
    *resp->mutable_exited_at() = exit.exited_at();
    return {};
  });
}

}  // namespace berth::services
