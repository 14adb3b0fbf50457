#include "runtime/shim_task.h"

#include <condition_variable>
#include <mutex>

#include <google/protobuf/empty.pb.h>

namespace berth::runtime {

namespace {
constexpr std::chrono::milliseconds kShortCall{std::chrono::seconds(30)};
// State answers from the shim's memory: what `ctr task ls` and every task lookup (Tasks.Get,
// which ctr's kill/ps/exec/rm make first) wait for. A hung shim (stopped, or stuck in a
// runtime command) must cost seconds, not the short-call bound, per task listed; containerd
// bounds the same call at 2 s (its io.containerd.timeout.task.state).
constexpr std::chrono::milliseconds kStateCall = ShimTask::kQuickCall;
// runc create/delete can take long on a loaded machine (and mount, cgroups...).
constexpr std::chrono::milliseconds kLongCall{std::chrono::minutes(2)};
// criu writes every page of the container's memory: bounded only to catch a hung shim.
constexpr std::chrono::milliseconds kCheckpointCall{std::chrono::minutes(30)};
}  // namespace

template <typename Resp>
Result<Resp> ShimTask::Invoke(const char* method, const google::protobuf::Message& req,
                              std::chrono::milliseconds timeout) {
  Resp resp;
  Status s = client_->Call(kService, method, req, &resp, ttrpc::WithNamespace(bundle_.ns, timeout));
  if (!s.ok()) return s;
  return resp;
}

Result<shimapi::CreateTaskResponse> ShimTask::Create(const shimapi::CreateTaskRequest& req) {
  return Invoke<shimapi::CreateTaskResponse>("Create", req, kLongCall);
}

Result<shimapi::StartResponse> ShimTask::Start(const std::string& exec_id) {
  shimapi::StartRequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  return Invoke<shimapi::StartResponse>("Start", req, kLongCall);
}

Result<shimapi::DeleteResponse> ShimTask::Delete(const std::string& exec_id) {
  shimapi::DeleteRequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  return Invoke<shimapi::DeleteResponse>("Delete", req, kLongCall);
}

Result<shimapi::StateResponse> ShimTask::State(const std::string& exec_id) {
  shimapi::StateRequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  return Invoke<shimapi::StateResponse>("State", req, kStateCall);
}

Result<shimapi::PidsResponse> ShimTask::Pids() {
  shimapi::PidsRequest req;
  req.set_id(id());
  return Invoke<shimapi::PidsResponse>("Pids", req, kShortCall);
}

Status ShimTask::Pause() {
  shimapi::PauseRequest req;
  req.set_id(id());
  return Invoke<google::protobuf::Empty>("Pause", req, kShortCall).status();
}

Status ShimTask::Resume() {
  shimapi::ResumeRequest req;
  req.set_id(id());
  return Invoke<google::protobuf::Empty>("Resume", req, kShortCall).status();
}

Status ShimTask::Kill(const std::string& exec_id, uint32_t signal, bool all) {
  shimapi::KillRequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  req.set_signal(signal);
  req.set_all(all);
  return Invoke<google::protobuf::Empty>("Kill", req, kShortCall).status();
}

Status ShimTask::Exec(const shimapi::ExecProcessRequest& req) {
  return Invoke<google::protobuf::Empty>("Exec", req, kShortCall).status();
}

Status ShimTask::ResizePty(const std::string& exec_id, uint32_t width, uint32_t height) {
  shimapi::ResizePtyRequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  req.set_width(width);
  req.set_height(height);
  return Invoke<google::protobuf::Empty>("ResizePty", req, kShortCall).status();
}

Status ShimTask::CloseIO(const std::string& exec_id, bool stdin) {
  shimapi::CloseIORequest req;
  req.set_id(id());
  req.set_exec_id(exec_id);
  req.set_stdin(stdin);
  return Invoke<google::protobuf::Empty>("CloseIO", req, kShortCall).status();
}

Status ShimTask::Update(const shimapi::UpdateTaskRequest& req) {
  return Invoke<google::protobuf::Empty>("Update", req, kShortCall).status();
}

Status ShimTask::Checkpoint(const std::string& path, const google::protobuf::Any* options) {
  shimapi::CheckpointTaskRequest req;
  req.set_id(id());
  req.set_path(path);
  if (options != nullptr) *req.mutable_options() = *options;
  return Invoke<google::protobuf::Empty>("Checkpoint", req, kCheckpointCall).status();
}

Result<shimapi::WaitResponse> ShimTask::Wait(const std::string& exec_id, const std::function<bool()>& cancelled) {
  // One Wait call per process in flight, shared by every waiter: ttrpc cannot cancel a call,
  // so a waiter that gives up (a client that hangs up, again and again) must not leave one
  // more call pending in the shim each time.
  std::shared_ptr<WaitTable::Outcome> outcome;
  bool first = false;
  {
    std::lock_guard lock(waits_->mu);
    auto& slot = waits_->in_flight[exec_id];
    if (!slot) {
      slot = std::make_shared<WaitTable::Outcome>();
      first = true;
    }
    outcome = slot;
  }
  if (first) {
    shimapi::WaitRequest req;
    req.set_id(id());
    req.set_exec_id(exec_id);
    client_->CallAsync(kService, "Wait", req.SerializeAsString(), ttrpc::WithNamespace(bundle_.ns),
                       [table = waits_, exec_id, outcome](Status status, std::string payload) {
                         {
                           std::lock_guard lock(table->mu);
                           auto it = table->in_flight.find(exec_id);
                           if (it != table->in_flight.end() && it->second == outcome) table->in_flight.erase(it);
                         }
                         std::lock_guard lock(outcome->mu);
                         outcome->done = true;
                         outcome->status = std::move(status);
                         outcome->payload = std::move(payload);
                         outcome->cv.notify_all();
                       });
  }
  std::unique_lock lock(outcome->mu);
  while (!outcome->cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return outcome->done; })) {
    if (cancelled && cancelled()) return Status(Errc::kCanceled, "wait canceled");
  }
  if (!outcome->status.ok()) return outcome->status;
  shimapi::WaitResponse resp;
  if (!resp.ParseFromString(outcome->payload)) return Unknown("cannot decode Wait response");
  return resp;
}

Result<shimapi::StatsResponse> ShimTask::Stats() {
  shimapi::StatsRequest req;
  req.set_id(id());
  return Invoke<shimapi::StatsResponse>("Stats", req, kShortCall);
}

Result<shimapi::ConnectResponse> ShimTask::Connect() {
  shimapi::ConnectRequest req;
  req.set_id(id());
  return Invoke<shimapi::ConnectResponse>("Connect", req, std::chrono::seconds(5));
}

Status ShimTask::Shutdown() {
  shimapi::ShutdownRequest req;
  req.set_id(id());
  return Invoke<google::protobuf::Empty>("Shutdown", req, std::chrono::seconds(5)).status();
}

}  // namespace berth::runtime
