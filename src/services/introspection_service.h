// containerd.services.introspection.v1.Introspection: which components this daemon runs
// (Plugins, with filters) and the server's persistent UUID.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.grpc.pb.h"

namespace berth::services {

namespace introapi = containerd::services::introspection::v1;

// One component as introspection shows it (containerd's plugin registration).
struct PluginInfo {
  std::string type;  // e.g. "io.containerd.grpc.v1"
  std::string id;    // e.g. "namespaces"
  std::vector<std::string> requires_types;
  std::vector<std::string> platforms;  // "os/arch[/variant]"
  std::map<std::string, std::string> exports;
  std::vector<std::string> capabilities;
  Status init_error;  // ok when the component started
};

// Thread-safe: gRPC calls it from any handler thread; its plugin list and UUID are fixed at
// construction.
class IntrospectionService final : public introapi::Introspection::Service {
 public:
  IntrospectionService(std::vector<PluginInfo> plugins, std::string uuid);

  grpc::Status Plugins(grpc::ServerContext* ctx, const introapi::PluginsRequest* req,
                       introapi::PluginsResponse* resp) override;
  grpc::Status Server(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                      introapi::ServerResponse* resp) override;

 private:
  std::vector<introapi::Plugin> plugins_;
  std::string uuid_;
};

}  // namespace berth::services
