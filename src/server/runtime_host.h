// The daemon side of the shims: the event-loop thread that carries every shim connection,
// the ttrpc endpoint shims publish their events to (`<grpc address>.ttrpc`, serving
// containerd.services.events.ttrpc.v1.Events/Forward into the exchange), and the task manager.
#pragma once

#include <memory>
#include <thread>

#include "events/exchange.h"
#include "runtime/task_manager.h"
#include "server/config.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"

namespace berth::server {

// Thread-safety: Start, Shutdown and the destructor belong to the owner's thread (berthd's main);
// tasks() and ttrpc_address() are fixed after Start and may be read from any thread.
class RuntimeHost {
 public:
  static Result<std::unique_ptr<RuntimeHost>> Start(const Config& config, events::Exchange& exchange);
  ~RuntimeHost();

  runtime::TaskManager& tasks() { return *tasks_; }
  const std::string& ttrpc_address() const { return ttrpc_address_; }

  // Closes the shim connections (the shims and tasks keep running), stops the events endpoint
  // and the loop thread, removes the ttrpc socket. Idempotent.
  void Shutdown();

 private:
  RuntimeHost() = default;

  std::string ttrpc_address_;
  std::unique_ptr<ttrpc::EventLoop> loop_;
  std::unique_ptr<ttrpc::Server> events_server_;
  std::unique_ptr<runtime::TaskManager> tasks_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace berth::server
