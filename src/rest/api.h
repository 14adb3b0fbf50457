// The REST API v1 of containerd 0.0.x, a second front-end beside the gRPC services: containers
// run from OCI bundles on disk, through the same control::Containers/control::Tasks (so the
// same shims, the same events, and `ctr task ls` shows them). Routes, bodies and answers are the
// seed's (api/v1/server.go): POST/PATCH/DELETE /containers/{id}, PUT /containers/{id}/process
// (and /processes), POST /containers/{id}/process/{pid}, the checkpoint routes, GET /state and
// the streaming GET /events. `?namespace=` picks the namespace (default "default"). Errors are
// JSON {"error": ...} with 400/404/405/409/413/500/501/503.
//
// Checkpoints are control::Checkpoints' named checkpoints (checkpoint images
// `checkpoint/<id>:<name>`, which outlive the container): POST /containers/{id}/checkpoint/{name}
// makes one, GET .../checkpoint lists them, DELETE .../checkpoint/{name} removes one, and
// POST /containers/{id} with "checkpoint" restores the new container's task from one of a
// container of that id. Without a usable criu they answer 501 naming criu and its verdict.
//
// Thread-safety: Handle may run on several threads at once.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "control/checkpoints.h"
#include "control/containers.h"
#include "control/tasks.h"
#include "events/exchange.h"
#include "http/server.h"
#include "rest/json_codec.h"

namespace berth::rest {

class Api {
 public:
  // Starts the thread that deletes the REST API's exec processes once they exit.
  Api(control::Containers& containers, control::Tasks& tasks, control::Checkpoints& checkpoints,
      events::Exchange& exchange);
  ~Api();  // stops and joins that thread
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  http::Response Handle(const http::Request& req);

 private:
  http::Response StartContainer(const std::string& ns, const std::string& id, const http::Request& req);
  http::Response UpdateContainer(const std::string& ns, const std::string& id, const http::Request& req);
  http::Response DeleteContainer(const std::string& ns, const std::string& id);
  http::Response AddProcess(const std::string& ns, const std::string& id, const http::Request& req);
  http::Response SignalProcess(const std::string& ns, const std::string& id, const std::string& pid,
                               const http::Request& req);
  http::Response ListCheckpoints(const std::string& ns, const std::string& id);
  http::Response CheckpointChange(const std::string& ns, const std::string& id, const std::string& name,
                                  const http::Request& req);
  http::Response State(const std::string& ns);
  http::Response Events(const std::string& ns);

  // The seed dropped a process once it exited: an exec started here is deleted from its shim
  // (and forgotten here) on its /tasks/exit, so neither grows with every exec.
  void ReapExecs(std::unique_ptr<events::Subscription> exits);

  // A container with a task, as /state shows it.
  Result<ContainerView> View(const std::string& ns, const metadata::Container& c);

  control::Containers& containers_;
  control::Tasks& tasks_;
  control::Checkpoints& checkpoints_;
  events::Exchange& exchange_;

  // Exec processes started here: their OCI process (the shim knows pids, not args). Keyed
  // "ns/id/exec".
  std::mutex mu_;
  std::map<std::string, Process> execs_;
  uint64_t next_exec_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread reaper_;
};

}  // namespace berth::rest
