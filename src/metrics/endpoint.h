// containerd's [metrics] address: the daemon's Prometheus metrics in the text exposition format
// at http://ADDRESS/v1/metrics, served by prometheus-cpp's exposer (civetweb) on its own threads.
// ADDRESS is host:port as containerd takes it (":1338" listens on every interface).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "common/status.h"

namespace berth::metrics {

inline constexpr const char* kMetricsPath = "/v1/metrics";

// Thread-safety: Start and the destructor belong to the owner (the Server); the exposer's threads
// call the collectables, which must be thread-safe; port() is fixed once started.
class Endpoint {
 public:
  // InvalidArgument for an address that is not host:port; Unavailable when it cannot be bound.
  // Serves every collectable (the registries and scrape-time collectors) at kMetricsPath; the
  // endpoint keeps them alive.
  static Result<std::unique_ptr<Endpoint>> Start(const std::string& address,
                                                 std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  // The bound TCP port (the one asked for, or the one picked for port 0).
  int port() const;

 private:
  Endpoint() = default;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace berth::metrics
