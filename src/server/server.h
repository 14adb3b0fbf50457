// berthd: opens the stores, wires the services, serves gRPC on the unix socket.
#pragma once

#include <memory>

#include <grpcpp/server.h>

#include "common/status.h"
#include "events/exchange.h"
#include "metadata/db.h"
#include "server/config.h"
#include "server/grpc_acceptor.h"
#include "server/listener.h"

namespace prometheus {
class Registry;
}
namespace berth::metrics {
class Endpoint;
}
namespace berth::http {
class Server;
}
namespace berth::rest {
class Api;
}
namespace berth::telemetry {
class Telemetry;
class Dumper;
}

namespace berth::server {

class Services;  // the gRPC service objects, defined in server.cc
class RuntimeHost;

// Not thread-safe: Start, Shutdown and the destructor run on berthd's main thread; what it starts
// (gRPC, HTTP, runtime loop, GC, dumper) has threads of its own.
class Server {
 public:
  // Takes the root/state locks, opens (and migrates) the metadata DB, starts serving.
  static Result<std::unique_ptr<Server>> Start(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Graceful stop: ends event streams, lets in-flight calls finish (bounded), removes the
  // socket. Idempotent.
  void Shutdown();

  const Config& config() const { return config_; }

 private:
  Server(Config config, DirLock root_lock, DirLock state_lock);

  Config config_;
  DirLock root_lock_;
  DirLock state_lock_;
  std::unique_ptr<metadata::Db> db_;
  std::unique_ptr<events::Exchange> exchange_;
  std::unique_ptr<telemetry::Telemetry> telemetry_;  // fed by the exchange, the task path, the GC
  std::unique_ptr<RuntimeHost> runtime_;  // before services_: the tasks service uses it
  std::unique_ptr<Services> services_;
  std::unique_ptr<metrics::Endpoint> metrics_;  // [metrics] address
  std::unique_ptr<telemetry::Dumper> dumper_;  // the seed's dump every metrics_interval
  std::unique_ptr<http::Server> debug_;        // [debug] address
  std::unique_ptr<rest::Api> rest_api_;        // [rest] address
  std::unique_ptr<http::Server> rest_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<GrpcAcceptor> acceptor_;  // after grpc_: stops accepting before it goes
  bool published_ = false;  // the socket is ours at config_.address (Shutdown removes it)
  bool stopped_ = false;
};

}  // namespace berth::server
