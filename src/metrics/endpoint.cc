#include "metrics/endpoint.h"

#include <exception>

namespace berth::metrics {

Result<std::unique_ptr<Endpoint>> Endpoint::Start(const std::string& address,
                                                  std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  size_t colon = address.rfind(':');
  if (address.empty() || address.front() == '/' || colon == std::string::npos || colon + 1 == address.size()) {
    return InvalidArgument("[metrics] address {:?} must be host:port", address);
  }
  for (size_t i = colon + 1; i < address.size(); ++i) {
    if (address[i] < '0' || address[i] > '9') return InvalidArgument("[metrics] address {:?}: bad port", address);
  }
  // civetweb's spelling: "PORT" alone for every interface, "HOST:PORT" otherwise.
  std::string listen = colon == 0 ? address.substr(1) : address;
  std::unique_ptr<Endpoint> e(new Endpoint());
  e->collectables_ = std::move(collectables);
  try {
    e->exposer_ = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& err) {
    return Unavailable("serve metrics on {}: {}", address, err.what());
  }
  for (const auto& c : e->collectables_) e->exposer_->RegisterCollectable(c, kMetricsPath);
  return e;
}

int Endpoint::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace berth::metrics
