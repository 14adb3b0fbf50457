#include "server/runtime_host.h"

#include <unistd.h>

#include <google/protobuf/empty.pb.h>

#include "common/logging.h"
#include "server/listener.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"

namespace berth::server {

namespace ttrpcevents = containerd::services::events::ttrpc::v1;

namespace {

containerd::runc::v1::Options RuncOptionsOf(const RuncDefaults& d) {
  containerd::runc::v1::Options o;
  o.set_binary_name(d.binary_name);
  o.set_root(d.root);
  o.set_systemd_cgroup(d.systemd_cgroup);
  o.set_shim_cgroup(d.shim_cgroup);
  o.set_no_pivot_root(d.no_pivot_root);
  o.set_no_new_keyring(d.no_new_keyring);
  o.set_criu_path(d.criu_path);
  return o;
}

}  // namespace

Result<std::unique_ptr<RuntimeHost>> RuntimeHost::Start(const Config& config, events::Exchange& exchange) {
  std::unique_ptr<RuntimeHost> h(new RuntimeHost());
  const std::string ttrpc_address =
      config.ttrpc_address.empty() ? config.address.string() + ".ttrpc" : config.ttrpc_address.string();
  BERTH_ASSIGN_OR_RETURN(h->loop_, ttrpc::EventLoop::Create());

  h->events_server_ = std::make_unique<ttrpc::Server>(*h->loop_);
  h->events_server_->RegisterUnary<ttrpcevents::ForwardRequest, google::protobuf::Empty>(
      "containerd.services.events.ttrpc.v1.Events", "Forward",
      [&exchange, oom_notify = config.oom_notify](const ttrpc::CallContext&,
                                                   const ttrpcevents::ForwardRequest& req) -> Result<google::protobuf::Empty> {
        // The ttrpc Envelope has the same fields as the gRPC one.
        events::Envelope env;
        if (!env.ParseFromString(req.envelope().SerializeAsString())) {
          return InvalidArgument("cannot decode event envelope");
        }
        if (!oom_notify && env.topic() == "/tasks/oom") return google::protobuf::Empty();  // --oom-notify=false
        BERTH_RETURN_IF_ERROR(exchange.Forward(env));
        return google::protobuf::Empty();
      });
  // Refuses a socket another daemon (e.g. containerd, whose .ttrpc this may be) still serves.
  BERTH_RETURN_IF_ERROR(PrepareSocketPath(ttrpc_address));
  BERTH_RETURN_IF_ERROR(h->events_server_->Listen(ttrpc_address, 0600));
  h->ttrpc_address_ = ttrpc_address;  // ours from here on: removed at shutdown
  if ((config.ttrpc_uid != 0 || config.ttrpc_gid != 0) &&
      ::chown(h->ttrpc_address_.c_str(), static_cast<uid_t>(config.ttrpc_uid), static_cast<gid_t>(config.ttrpc_gid)) != 0) {
    return ErrnoStatus("chown " + h->ttrpc_address_, errno);
  }

  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  runtime::TaskManagerConfig tm;
  tm.tasks_root = config.state / "io.containerd.runtime.v2.task";  // where containerd 1.6 keeps bundles
  tm.legacy_tasks_roots = {config.state / "tasks"};
  tm.shim_defaults.runc = RuncOptionsOf(config.runc);
  if (tm.shim_defaults.runc.root().empty()) tm.shim_defaults.runc.set_root((config.state / "runc").string());
  tm.shim_defaults.linux_v1 = RuncOptionsOf(config.linux_v1);
  tm.launcher.grpc_address = config.address.string();
  tm.launcher.ttrpc_address = h->ttrpc_address_;
  tm.launcher.publish_binary = self;
  tm.launcher.runc_shim = config.runc_shim;
  tm.launcher.debug = config.shim_debug || config.log_level == "debug" || config.log_level == "trace";
  h->tasks_ = std::make_unique<runtime::TaskManager>(std::move(tm), *h->loop_, exchange);

  ttrpc::EventLoop* loop = h->loop_.get();
  h->thread_ = std::thread([loop] {
    Status s = loop->Run();
    if (!s.ok()) log::Error("runtime event loop stopped", {{"error", s.ToString()}});
  });
  return h;
}

void RuntimeHost::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (tasks_) tasks_->CloseAll();
  if (loop_ && thread_.joinable()) {
    // The server is closed on its own thread, then the loop stops.
    ttrpc::EventLoop* loop = loop_.get();
    ttrpc::Server* server = events_server_.get();
    loop->Post([loop, server] {
      server->Close();
      loop->Stop();
    });
    thread_.join();
  }
  if (!ttrpc_address_.empty()) ::unlink(ttrpc_address_.c_str());
}

RuntimeHost::~RuntimeHost() {
  Shutdown();
  tasks_.reset();
  events_server_.reset();
}

}  // namespace berth::server
