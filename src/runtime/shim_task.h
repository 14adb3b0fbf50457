// berthd's handle on one shim: its bundle, its ttrpc connection, and typed calls of the
// `containerd.task.v2.Task` service. Every call carries the task's namespace as ttrpc metadata.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "runtime/bundle.h"
#include "ttrpc/client.h"

namespace berth::runtime {

namespace shimapi = containerd::task::v2;

// Thread-safe: calls may be made concurrently from any thread but the event loop's (they block
// on the ttrpc client, which multiplexes them); its fields are fixed at construction, except
// the atomic deleted mark and the table of Waits in flight (behind its mutex).
class ShimTask {
 public:
  static constexpr const char* kService = "containerd.task.v2.Task";
  // The bound of calls answered from the shim's memory (State; Stats fanned out by
  // StatsOfAll): a hung shim costs seconds, not the short-call bound, per listing.
  static constexpr std::chrono::milliseconds kQuickCall{std::chrono::seconds(5)};

  ShimTask(Bundle bundle, std::string shim_binary, std::shared_ptr<ttrpc::Client> client)
      : bundle_(std::move(bundle)), shim_binary_(std::move(shim_binary)), client_(std::move(client)) {}

  const Bundle& bundle() const { return bundle_; }
  const std::string& ns() const { return bundle_.ns; }
  const std::string& id() const { return bundle_.id; }
  const std::string& shim_binary() const { return shim_binary_; }
  ttrpc::Client& client() { return *client_; }

  // Every call but Wait is bounded (DeadlineExceeded): State by 5 s (a hung shim must not hold
  // up task lists and lookups), the other short calls by 30 s, create/start/delete by 2 min,
  // checkpoint by 30 min. Wait is not (it lasts as long as the process).
  Result<shimapi::CreateTaskResponse> Create(const shimapi::CreateTaskRequest& req);
  Result<shimapi::StartResponse> Start(const std::string& exec_id);
  Result<shimapi::DeleteResponse> Delete(const std::string& exec_id);
  Result<shimapi::StateResponse> State(const std::string& exec_id);
  Result<shimapi::PidsResponse> Pids();
  Status Pause();
  Status Resume();
  Status Kill(const std::string& exec_id, uint32_t signal, bool all);
  Status Exec(const shimapi::ExecProcessRequest& req);
  Status ResizePty(const std::string& exec_id, uint32_t width, uint32_t height);
  Status CloseIO(const std::string& exec_id, bool stdin);
  Status Update(const shimapi::UpdateTaskRequest& req);
  // criu's dump into `path` (the shim's CheckpointTaskRequest); as long as criu needs.
  Status Checkpoint(const std::string& path, const google::protobuf::Any* options);
  // Blocks until the process exits; `cancelled` is polled so that a caller that went away
  // (a gRPC client hanging up, the daemon stopping) does not hold a thread forever: Canceled.
  // Concurrent waiters of one process share one call to the shim, which stays in flight (and
  // is joined by the next waiter) when they all give up.
  Result<shimapi::WaitResponse> Wait(const std::string& exec_id, const std::function<bool()>& cancelled);
  Result<shimapi::StatsResponse> Stats();
  Result<shimapi::ConnectResponse> Connect();
  Status Shutdown();

  // Whether the task was deleted through berthd (so a closing connection is expected); marked
  // before the shim is told to go, never unmarked.
  bool deleted() const { return deleted_.load(); }
  void MarkDeleted() { deleted_.store(true); }

 private:
  template <typename Resp>
  Result<Resp> Invoke(const char* method, const google::protobuf::Message& req,
                      std::chrono::milliseconds timeout);

  // The Wait calls in flight, by exec id; shared with their callbacks, which may outlive this.
  struct WaitTable {
    struct Outcome {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;  // guarded by mu, as status and payload
      Status status;
      std::string payload;
    };
    std::mutex mu;
    std::map<std::string, std::shared_ptr<Outcome>> in_flight;  // guarded by mu
  };

  Bundle bundle_;
  std::string shim_binary_;
  std::shared_ptr<ttrpc::Client> client_;
  std::atomic<bool> deleted_{false};
  std::shared_ptr<WaitTable> waits_ = std::make_shared<WaitTable>();
};

}  // namespace berth::runtime
