// containerd.services.tasks.v1.Tasks (containerd 1.6's services/tasks/local.go) over
// control::TaskOps (control::Tasks, shared with the REST API, or a fake in tests): the
// container's record (spec, runtime, snapshot) comes from the metadata DB, the process work is
// the shim's. Checkpoint and restore (Create with a checkpoint) go through TaskOps as well.
#pragma once

#include <memory>
#include <string>

#include "control/task_ops.h"
#include "github.com/containerd/containerd/api/services/tasks/v1/tasks.grpc.pb.h"

namespace berth::services {

namespace tasksapi = containerd::services::tasks::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class TasksService final : public tasksapi::Tasks::Service {
 public:
  explicit TasksService(control::TaskOps& tasks) : tasks_(tasks) {}

  grpc::Status Create(grpc::ServerContext* ctx, const tasksapi::CreateTaskRequest* req,
                      tasksapi::CreateTaskResponse* resp) override;
  grpc::Status Start(grpc::ServerContext* ctx, const tasksapi::StartRequest* req,
                     tasksapi::StartResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const tasksapi::DeleteTaskRequest* req,
                      tasksapi::DeleteResponse* resp) override;
  grpc::Status DeleteProcess(grpc::ServerContext* ctx, const tasksapi::DeleteProcessRequest* req,
                             tasksapi::DeleteResponse* resp) override;
  grpc::Status Get(grpc::ServerContext* ctx, const tasksapi::GetRequest* req,
                   tasksapi::GetResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const tasksapi::ListTasksRequest* req,
                    tasksapi::ListTasksResponse* resp) override;
  grpc::Status Kill(grpc::ServerContext* ctx, const tasksapi::KillRequest* req,
                    google::protobuf::Empty* resp) override;
  grpc::Status Exec(grpc::ServerContext* ctx, const tasksapi::ExecProcessRequest* req,
                    google::protobuf::Empty* resp) override;
  grpc::Status ResizePty(grpc::ServerContext* ctx, const tasksapi::ResizePtyRequest* req,
                         google::protobuf::Empty* resp) override;
  grpc::Status CloseIO(grpc::ServerContext* ctx, const tasksapi::CloseIORequest* req,
                       google::protobuf::Empty* resp) override;
  grpc::Status Pause(grpc::ServerContext* ctx, const tasksapi::PauseTaskRequest* req,
                     google::protobuf::Empty* resp) override;
  grpc::Status Resume(grpc::ServerContext* ctx, const tasksapi::ResumeTaskRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status ListPids(grpc::ServerContext* ctx, const tasksapi::ListPidsRequest* req,
                        tasksapi::ListPidsResponse* resp) override;
  grpc::Status Checkpoint(grpc::ServerContext* ctx, const tasksapi::CheckpointTaskRequest* req,
                          tasksapi::CheckpointTaskResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const tasksapi::UpdateTaskRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status Metrics(grpc::ServerContext* ctx, const tasksapi::MetricsRequest* req,
                       tasksapi::MetricsResponse* resp) override;
  grpc::Status Wait(grpc::ServerContext* ctx, const tasksapi::WaitRequest* req,
                    tasksapi::WaitResponse* resp) override;

 private:
  // The container must exist (NotFound as containerd), then its task (NotFound `task X not found`).
  Result<std::shared_ptr<runtime::ShimTask>> TaskOf(const grpc::ServerContext& ctx, const std::string& id);

  control::TaskOps& tasks_;
};

}  // namespace berth::services
