// Client: the tasks service (containerd.services.tasks.v1.Tasks).
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"
#include "mount/mount_proto.h"

namespace berth::client {
namespace {

TaskProcess ProcessFromProto(const containerd::v1::types::Process& p) {
  TaskProcess out;
  out.container_id = p.container_id();
  out.id = p.id();
  out.pid = p.pid();
  out.status = static_cast<TaskStatus>(p.status());
  out.stdin_path = p.stdin();
  out.stdout_path = p.stdout();
  out.stderr_path = p.stderr();
  out.terminal = p.terminal();
  out.exit_status = p.exit_status();
  out.exited_at = TimeOf(p.has_exited_at(), p.exited_at());
  return out;
}

ExitStatus ExitFromDelete(const tasksv1::DeleteResponse& r) {
  return ExitStatus{r.exit_status(), TimeOf(r.has_exited_at(), r.exited_at()), r.pid()};
}

}  // namespace

Result<uint32_t> Client::CreateTask(const TaskCreateRequest& r) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::CreateTaskRequest request;
  request.set_container_id(r.container_id);
  for (const auto& m : r.rootfs) mount::ToProto(m, request.add_rootfs());
  request.set_stdin(r.stdin_path);
  request.set_stdout(r.stdout_path);
  request.set_stderr(r.stderr_path);
  request.set_terminal(r.terminal);
  if (r.options) *request.mutable_options() = *r.options;
  request.set_runtime_path(r.runtime_path);
  if (r.checkpoint) {
    auto* d = request.mutable_checkpoint();
    d->set_media_type(r.checkpoint->media_type);
    d->set_digest(r.checkpoint->digest);
    d->set_size(r.checkpoint->size);
    for (const auto& [k, v] : r.checkpoint->annotations) (*d->mutable_annotations())[k] = v;
  }
  tasksv1::CreateTaskResponse response;
  grpc::Status status = stubs_->tasks->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.pid();
}

Result<std::vector<Descriptor>> Client::CheckpointTask(const std::string& container_id,
                                                      const std::optional<google::protobuf::Any>& options) const {
  grpc::ClientContext context;
  Prepare(&context, false);  // criu takes as long as the task's memory needs
  tasksv1::CheckpointTaskRequest request;
  request.set_container_id(container_id);
  if (options) *request.mutable_options() = *options;
  tasksv1::CheckpointTaskResponse response;
  grpc::Status status = stubs_->tasks->Checkpoint(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<Descriptor> out;
  for (const auto& d : response.descriptors()) {
    out.push_back(DescriptorFromProto(d));
  }
  return out;
}

Result<uint32_t> Client::StartTask(const std::string& container_id,
                                   const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::StartRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  tasksv1::StartResponse response;
  grpc::Status status = stubs_->tasks->Start(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.pid();
}

Result<ExitStatus> Client::WaitTask(const std::string& container_id,
                                    const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, false);  // no deadline: a task runs as long as it runs
  if (!RegisterLongCall(&context)) return Status(Errc::kCanceled, "wait canceled");
  tasksv1::WaitRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  tasksv1::WaitResponse response;
  grpc::Status status = stubs_->tasks->Wait(&context, request, &response);
  UnregisterLongCall(&context);
  if (!status.ok()) return FromGrpc(status);
  return ExitStatus{response.exit_status(),
                    TimeOf(response.has_exited_at(), response.exited_at()), 0};
}

Status Client::KillTask(const std::string& container_id, uint32_t signal, bool all,
                        const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::KillRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_signal(signal);
  request.set_all(all);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->Kill(&context, request, &response));
}

Result<ExitStatus> Client::DeleteTask(const std::string& container_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::DeleteTaskRequest request;
  request.set_container_id(container_id);
  tasksv1::DeleteResponse response;
  grpc::Status status = stubs_->tasks->Delete(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ExitFromDelete(response);
}

Result<ExitStatus> Client::DeleteProcess(const std::string& container_id,
                                         const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::DeleteProcessRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  tasksv1::DeleteResponse response;
  grpc::Status status = stubs_->tasks->DeleteProcess(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ExitFromDelete(response);
}

Result<TaskProcess> Client::GetTask(const std::string& container_id,
                                    const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::GetRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  tasksv1::GetResponse response;
  grpc::Status status = stubs_->tasks->Get(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ProcessFromProto(response.process());
}

Result<std::vector<TaskProcess>> Client::ListTasks(const std::string& filter) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::ListTasksRequest request;
  request.set_filter(filter);
  tasksv1::ListTasksResponse response;
  grpc::Status status = stubs_->tasks->List(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<TaskProcess> out;
  for (const auto& p : response.tasks()) out.push_back(ProcessFromProto(p));
  return out;
}

Status Client::ExecProcess(const ExecRequest& r) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::ExecProcessRequest request;
  request.set_container_id(r.container_id);
  request.set_exec_id(r.exec_id);
  request.set_stdin(r.stdin_path);
  request.set_stdout(r.stdout_path);
  request.set_stderr(r.stderr_path);
  request.set_terminal(r.terminal);
  *request.mutable_spec() = r.spec;
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->Exec(&context, request, &response));
}

Result<std::vector<ProcessInfo>> Client::ListPids(const std::string& container_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::ListPidsRequest request;
  request.set_container_id(container_id);
  tasksv1::ListPidsResponse response;
  grpc::Status status = stubs_->tasks->ListPids(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<ProcessInfo> out;
  for (const auto& p : response.processes()) {
    ProcessInfo info{p.pid(), std::nullopt};
    if (p.has_info()) info.info = p.info();
    out.push_back(std::move(info));
  }
  return out;
}

Status Client::PauseTask(const std::string& container_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::PauseTaskRequest request;
  request.set_container_id(container_id);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->Pause(&context, request, &response));
}

Status Client::ResumeTask(const std::string& container_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::ResumeTaskRequest request;
  request.set_container_id(container_id);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->Resume(&context, request, &response));
}

Status Client::CloseIO(const std::string& container_id, const std::string& exec_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::CloseIORequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_stdin(true);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->CloseIO(&context, request, &response));
}

Status Client::ResizePty(const std::string& container_id, const std::string& exec_id,
                         uint32_t width, uint32_t height) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::ResizePtyRequest request;
  request.set_container_id(container_id);
  request.set_exec_id(exec_id);
  request.set_width(width);
  request.set_height(height);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->ResizePty(&context, request, &response));
}

Result<std::vector<TaskMetric>> Client::TaskMetrics(const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::MetricsRequest request;
  for (const auto& f : filters) request.add_filters(f);
  tasksv1::MetricsResponse response;
  grpc::Status status = stubs_->tasks->Metrics(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<TaskMetric> out;
  for (const auto& m : response.metrics()) {
    out.push_back(TaskMetric{TimeOf(m.has_timestamp(), m.timestamp()), m.id(), m.data()});
  }
  return out;
}

Status Client::UpdateTask(const std::string& container_id,
                          const std::optional<google::protobuf::Any>& resources,
                          const std::map<std::string, std::string>& annotations) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  tasksv1::UpdateTaskRequest request;
  request.set_container_id(container_id);
  if (resources) *request.mutable_resources() = *resources;
  request.mutable_annotations()->insert(annotations.begin(), annotations.end());
  google::protobuf::Empty response;
  return FromGrpc(stubs_->tasks->Update(&context, request, &response));
}

}  // namespace berth::client
