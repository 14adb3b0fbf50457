#include "services/introspection_service.h"

#include "common/filters.h"
#include "common/proto_adaptor.h"
#include "services/grpc_status.h"

namespace berth::services {
namespace {

introapi::Plugin ToProto(const PluginInfo& p) {
  introapi::Plugin out;
  out.set_type(p.type);
  out.set_id(p.id);
  for (const auto& r : p.requires_types) out.add_requires_ids(r);
  for (const auto& platform : p.platforms) {
    auto* pl = out.add_platforms();
    size_t a = platform.find('/');
    size_t b = platform.find('/', a == std::string::npos ? a : a + 1);
    pl->set_os(platform.substr(0, a));
    if (a != std::string::npos) pl->set_architecture(platform.substr(a + 1, b - a - 1));
    if (b != std::string::npos) pl->set_variant(platform.substr(b + 1));
  }
  for (const auto& [k, v] : p.exports) (*out.mutable_exports())[k] = v;
  for (const auto& c : p.capabilities) out.add_capabilities(c);
  if (!p.init_error.ok()) {
    out.mutable_init_err()->set_code(static_cast<int>(ToGrpcCode(p.init_error.code())));
    out.mutable_init_err()->set_message(p.init_error.ToString());
  }
  return out;
}

}  // namespace

IntrospectionService::IntrospectionService(std::vector<PluginInfo> plugins, std::string uuid)
    : uuid_(std::move(uuid)) {
  for (const auto& p : plugins) plugins_.push_back(ToProto(p));
}

grpc::Status IntrospectionService::Plugins(grpc::ServerContext* /*ctx*/,
                                           const introapi::PluginsRequest* req,
                                           introapi::PluginsResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(req->filters()));
    for (const auto& p : plugins_) {
      if (filter->Match(ProtoAdaptor(p))) *resp->add_plugins() = p;
    }
    return {};
  });
}

grpc::Status IntrospectionService::Server(grpc::ServerContext* /*ctx*/,
                                          const google::protobuf::Empty* /*req*/,
                                          introapi::ServerResponse* resp) {
  resp->set_uuid(uuid_);
  return grpc::Status::OK;
}

}  // namespace berth::services
