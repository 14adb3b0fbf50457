#include "server/server.h"

#include "server/debug_vars.h"
#include "server/gc_scheduler.h"
#include "server/runtime_host.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "common/cgroups.h"
#include "common/files.h"
#include "common/logging.h"
#include "control/checkpoints.h"
#include "diff/differ.h"
#include "http/server.h"
#include "metadata/images.h"
#include "metadata/namespaces.h"
#include "rest/api.h"
#include "telemetry/collector.h"
#include "telemetry/telemetry.h"
#include "metrics/endpoint.h"
#include "metrics/grpc_server_metrics.h"
#include "content/local_store.h"
#include "metadata/containers.h"
#include "metadata/content_store.h"
#include "metadata/gc.h"
#include "metadata/schema.h"
#include "metadata/server_info.h"
#include "snapshots/native.h"
#include "snapshots/overlay.h"
#include "services/containers_service.h"
#include "services/diff_service.h"
#include "services/content_service.h"
#include "services/events_service.h"
#include "services/gc_hook.h"
#include "services/images_service.h"
#include "services/introspection_service.h"
#include "services/leases_service.h"
#include "services/namespaces_service.h"
#include "services/snapshots_service.h"
#include "services/tasks_service.h"
#include "services/version_service.h"

namespace berth::server {

// The snapshotters, opened (and cleaned up) before the services are built.
struct SnapshotterSet {
  std::unique_ptr<snapshots::OverlaySnapshotter> overlay;
  std::unique_ptr<snapshots::NativeSnapshotter> native;

  static Result<SnapshotterSet> Open(metadata::Db& db, const std::filesystem::path& root) {
    SnapshotterSet out;
    BERTH_ASSIGN_OR_RETURN(out.overlay, snapshots::OverlaySnapshotter::Open(db, root / "snapshots" / "overlayfs"));
    BERTH_ASSIGN_OR_RETURN(out.native, snapshots::NativeSnapshotter::Open(db, root / "snapshots" / "native"));
    return out;
  }
  services::SnapshotsService::Snapshotters ByName() const {
    return {{overlay->name(), overlay.get()}, {native->name(), native.get()}};
  }
};

// Every component and service of the daemon, in dependency order (members are built top to
// bottom and destroyed bottom to top, so nothing outlives what it uses).
class Services {
 public:
  Services(metadata::Db& db, events::Exchange& exchange, std::unique_ptr<content::LocalStore> local,
           SnapshotterSet snapshotter_set, std::vector<services::PluginInfo> plugins, std::string uuid,
           runtime::TaskManager& task_manager, int concurrency, control::StartObserver on_start)
      : local_content(std::move(local)),
        snapshotters(std::move(snapshotter_set)),
        gc_core(db, BlobFilesOf(*local_content)),
        gc(gc_core),
        content_store(db, *local_content),
        content(content_store, exchange, gc),
        namespaces(db, exchange),
        events(exchange),
        introspection(std::move(plugins), std::move(uuid)),
        images(db, exchange, gc),
        leases(db, gc),
        container_records(db, exchange, [this] { gc.Schedule(); }),
        containers(container_records),
        snapshots(snapshotters.ByName(), exchange, gc),
        differ(content_store, local_content->root().parent_path() / "tmpmounts"),
        diff(differ),
        task_control(db, task_manager, snapshotters.ByName(),
                     control::TasksConfig{.concurrency = concurrency,
                                          .on_start = std::move(on_start),
                                          .content = &content_store,
                                          .events = &exchange,
                                          .scratch = local_content->root().parent_path() / "tmpcheckpoints"}),
        checkpoints(db, content_store, task_control, exchange, [this] { gc.Schedule(); }),
        tasks(task_control) {
    gc_core.AddSnapshotter(snapshotters.overlay->name(), snapshotters.overlay.get());
    gc_core.AddSnapshotter(snapshotters.native->name(), snapshotters.native.get());
  }

  void RegisterAll(grpc::ServerBuilder& b) {
    b.RegisterService(&version);
    b.RegisterService(&namespaces);
    b.RegisterService(&events);
    b.RegisterService(&introspection);
    b.RegisterService(&content);
    b.RegisterService(&images);
    b.RegisterService(&leases);
    b.RegisterService(&containers);
    b.RegisterService(&snapshots);
    b.RegisterService(&diff);
    b.RegisterService(&tasks);
  }

  // The GC's view of the blob files: walk them, delete one.
  static metadata::BlobFiles BlobFilesOf(content::LocalStore& store) {
    return metadata::BlobFiles{
        [&store](const std::function<void(const std::string&)>& fn) {
          return store.Walk([&](const content::BlobInfo& info) {
            fn(info.digest.String());
            return Status::Ok();
          });
        },
        [&store](const std::string& digest) -> Status {
          BERTH_ASSIGN_OR_RETURN(auto d, ParseDigest(digest));
          return store.Delete(d);
        }};
  }

  std::unique_ptr<content::LocalStore> local_content;  // blobs on disk under <root>/content
  SnapshotterSet snapshotters;                         // under <root>/snapshots/<name>
  metadata::GarbageCollection gc_core;
  GcScheduler gc;
  metadata::ContentStore content_store;  // the same blobs, owned per namespace
  services::ContentService content;
  services::VersionService version;
  services::NamespacesService namespaces;
  services::EventsService events;
  services::IntrospectionService introspection;
  services::ImagesService images;
  services::LeasesService leases;
  control::Containers container_records;  // shared by the gRPC service and the REST API
  services::ContainersService containers;
  services::SnapshotsService snapshots;
  diff::Differ differ;  // temporary mounts under <root>/tmpmounts, as containerd's
  services::DiffService diff;
  control::Tasks task_control;  // shared by the gRPC service and the REST API
  control::Checkpoints checkpoints;  // the named checkpoints of the REST API
  services::TasksService tasks;
};

namespace {

Status MakeDir(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::kUnknown, fmt::format("create {}: {}", dir.string(), ec.message()));
  if (::chmod(dir.c_str(), mode) != 0) return ErrnoStatus(fmt::format("chmod {}", dir.string()), errno);
  return Status::Ok();
}

// What introspection lists: the components this daemon really runs.
std::vector<services::PluginInfo> Plugins() {
  using services::PluginInfo;
  std::vector<PluginInfo> out;
  out.push_back(PluginInfo{.type = "io.containerd.event.v1", .id = "exchange"});
  out.push_back(PluginInfo{.type = "io.containerd.metadata.v1", .id = "sqlite",
                           .exports = {{"schema", "v1"}}});
  out.push_back(PluginInfo{.type = "io.containerd.content.v1", .id = "content"});
  // Snapshotters as containerd lists them: platform linux/amd64, the root they keep.
  for (const char* id : {"native", "overlayfs"}) {
    out.push_back(PluginInfo{.type = "io.containerd.snapshotter.v1", .id = id,
                             .platforms = {"linux/amd64"}});
  }
  out.push_back(PluginInfo{.type = "io.containerd.differ.v1", .id = "walking",
                           .requires_types = {"io.containerd.metadata.v1"}});
  out.push_back(PluginInfo{.type = "io.containerd.runtime.v2", .id = "task",
                           .requires_types = {"io.containerd.event.v1", "io.containerd.metadata.v1"},
                           .platforms = {"linux/amd64"}});
  out.push_back(PluginInfo{.type = "io.containerd.gc.v1", .id = "scheduler",
                           .requires_types = {"io.containerd.metadata.v1"}});
  out.push_back(PluginInfo{.type = "io.containerd.grpc.v1", .id = "content",
                           .requires_types = {"io.containerd.content.v1", "io.containerd.metadata.v1"}});
  const char* grpc_plugins[] = {"version", "namespaces", "events", "introspection", "images", "leases",
                                "containers", "snapshots", "diff", "tasks", "healthcheck"};
  for (const char* id : grpc_plugins) {
    PluginInfo p{.type = "io.containerd.grpc.v1", .id = id};
    if (std::string_view(id) == "namespaces") p.requires_types = {"io.containerd.metadata.v1"};
    if (std::string_view(id) == "events") p.requires_types = {"io.containerd.event.v1"};
    if (std::string_view(id) == "images" || std::string_view(id) == "leases") {
      p.requires_types = {"io.containerd.metadata.v1"};
    }
    if (std::string_view(id) == "diff") p.requires_types = {"io.containerd.differ.v1"};
    if (std::string_view(id) == "tasks") {
      p.requires_types = {"io.containerd.runtime.v2", "io.containerd.metadata.v1"};
    }
    if (std::string_view(id) == "snapshots") {
      p.requires_types = {"io.containerd.event.v1", "io.containerd.metadata.v1", "io.containerd.snapshotter.v1"};
    }
    if (std::string_view(id) == "containers") {
      p.requires_types = {"io.containerd.event.v1", "io.containerd.metadata.v1"};
    }
    out.push_back(std::move(p));
  }
  return out;
}

// containerd's required_plugins: "type.id" as introspection lists them.
Status CheckRequiredPlugins(const std::vector<std::string>& required) {
  auto plugins = Plugins();
  for (const std::string& want : required) {
    bool found = std::any_of(plugins.begin(), plugins.end(),
                             [&](const services::PluginInfo& p) { return p.type + "." + p.id == want; });
    if (!found) return FailedPrecondition("required plugin {} not included", want);
  }
  return Status::Ok();
}

// The process-wide settings of the config: oom_score_adj and the daemon's own cgroup.
Status ApplyProcessSettings(const Config& c) {
  if (c.oom_score) {
    std::string value = std::to_string(*c.oom_score);
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open("/proc/self/oom_score_adj", O_WRONLY));
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    int err = errno;
    if (n != static_cast<ssize_t>(value.size()) && (err == EACCES || err == EPERM)) {
      // Lowering the score needs CAP_SYS_RESOURCE, which an unprivileged or nested daemon
      // lacks; containerd carries on there too.
      log::Warn("cannot set oom_score (no CAP_SYS_RESOURCE?): kept the inherited one", {{"oom_score", value}});
    } else if (n != static_cast<ssize_t>(value.size())) {
      return ErrnoStatus("set oom_score " + value, err);
    }
  }
  if (!c.cgroup_path.empty()) {
    BERTH_RETURN_IF_ERROR(cgroups::JoinCgroup(::getpid(), c.cgroup_path).Wrap("[cgroup] path"));
    log::Info("berthd moved into cgroup", {{"path", c.cgroup_path}});
  }
  return Status::Ok();
}

// What the Prometheus collector reads at scrape time.
telemetry::CollectorSources CollectorSourcesOf(metadata::Db& db, Services& services, runtime::TaskManager& tasks,
                                               events::Exchange& exchange) {
  auto per_namespace = [&db](auto count) {
    return [&db, count] {
      std::map<std::string, uint64_t> out;
      db.View([&](metadata::Tx& tx) -> Status {
        BERTH_ASSIGN_OR_RETURN(auto namespaces, metadata::namespaces::List(tx));
        for (const auto& n : namespaces) {
          auto got = count(tx, n.name);
          if (got.ok()) out[n.name] = *got;
        }
        return Status::Ok();
      }).ok();
      return out;
    };
  };
  content::LocalStore* local = services.local_content.get();
  return telemetry::CollectorSources{
      .tasks = [&tasks] { return tasks.ListAll(); },
      .containers = per_namespace([](metadata::Tx& tx, const std::string& ns) -> Result<uint64_t> {
        BERTH_ASSIGN_OR_RETURN(auto all, metadata::containers::List(tx, ns, {}));
        return static_cast<uint64_t>(all.size());
      }),
      .images = per_namespace([](metadata::Tx& tx, const std::string& ns) -> Result<uint64_t> {
        BERTH_ASSIGN_OR_RETURN(auto all, metadata::images::List(tx, ns, {}));
        return static_cast<uint64_t>(all.size());
      }),
      .content_bytes =
          [local] {
            uint64_t total = 0;
            local->Walk([&](const content::BlobInfo& info) {
                   total += static_cast<uint64_t>(info.size);
                   return Status::Ok();
                 })
                .IgnoreError();
            return total;
          },
      .events = [&exchange] { return exchange.published(); },
      .event_subscribers = [&exchange] { return static_cast<uint64_t>(exchange.subscribers()); },
  };
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Config config) {
  BERTH_RETURN_IF_ERROR(CheckRequiredPlugins(config.required_plugins));
  BERTH_RETURN_IF_ERROR(ApplyProcessSettings(config));
  BERTH_RETURN_IF_ERROR(MakeDir(config.root, 0711));
  BERTH_RETURN_IF_ERROR(MakeDir(config.state, 0711));
  BERTH_ASSIGN_OR_RETURN(DirLock root_lock, DirLock::Acquire(config.root));
  BERTH_ASSIGN_OR_RETURN(DirLock state_lock, DirLock::Acquire(config.state));
  std::unique_ptr<Server> s(new Server(std::move(config), std::move(root_lock), std::move(state_lock)));
  const Config& c = s->config_;

  // Before anything touches tasks: a live daemon on the socket (berthd or containerd sharing
  // this state) is refused here, not after its shims were taken for dead ones.
  BERTH_RETURN_IF_ERROR(PrepareSocketPath(c.address));
  BERTH_ASSIGN_OR_RETURN(s->db_, metadata::Db::Open(c.root / "metadata.db", metadata::Migrations()));
  BERTH_ASSIGN_OR_RETURN(std::string uuid, metadata::ServerUuid(*s->db_));
  s->exchange_ = std::make_unique<events::Exchange>();
  s->telemetry_ = std::make_unique<telemetry::Telemetry>();
  s->exchange_->SetObserver([t = s->telemetry_.get()](const events::Envelope& env) { t->ObserveEvent(env); });
  BERTH_ASSIGN_OR_RETURN(auto local_content, content::LocalStore::Open(c.root / "content"));
  BERTH_ASSIGN_OR_RETURN(auto snapshotter_set, SnapshotterSet::Open(*s->db_, c.root));
  BERTH_ASSIGN_OR_RETURN(s->runtime_, RuntimeHost::Start(c, *s->exchange_));
  telemetry::Telemetry* tel = s->telemetry_.get();
  s->services_ = std::make_unique<Services>(
      *s->db_, *s->exchange_, std::move(local_content), std::move(snapshotter_set), Plugins(), uuid,
      s->runtime_->tasks(), static_cast<int>(c.concurrency),
      [tel](const std::string& ns, std::chrono::nanoseconds took) { tel->ObserveStart(ns, took); });
  s->services_->gc.SetObserver([tel](std::chrono::nanoseconds took) { tel->ObserveGc(took); });
  // Shims that kept their tasks running while berthd was down are connected again; bundles
  // whose container is gone (or whose shim died) are cleaned up.
  metadata::Db* db = s->db_.get();
  s->runtime_->tasks().Restore([db](const std::string& ns, const std::string& id) {
    bool exists = true;  // when in doubt, keep the task
    db->View([&](metadata::Tx& tx) -> Status {
      auto container = metadata::containers::Get(tx, ns, id);
      if (!container.ok() && container.status().Is(Errc::kNotFound)) exists = false;
      return Status::Ok();
    }).ok();
    return exists;
  });
  // Whatever a crash left (a blob renamed into place whose transaction never committed, a lease
  // that expired while we were down) is collected shortly after start.
  s->services_->gc.Schedule();

  // grpc.health.v1.Health (Check, Watch), what containerd's Go client calls in IsServing. It is
  // built with the server, so it answers only once recovery above is done; NOT_SERVING from the
  // start of Shutdown.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // berthd listens itself (GrpcAcceptor: gRPC's own listener gives up on EMFILE), on a socket
  // staged and then published with its mode.
  BERTH_ASSIGN_OR_RETURN(StagedSocket socket, StagedSocket::Make(c.address));
  BERTH_ASSIGN_OR_RETURN(UniqueFd listener, ListenUnix(socket.path()));
  builder.SetMaxReceiveMessageSize(static_cast<int>(c.max_recv_message_size));
  builder.SetMaxSendMessageSize(static_cast<int>(c.max_send_message_size));
  s->services_->RegisterAll(builder);
  if (!c.metrics_address.empty()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(
        std::make_unique<metrics::GrpcServerMetrics>(*tel->registry(), c.metrics_grpc_histogram));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  s->grpc_ = builder.BuildAndStart();
  if (s->grpc_ == nullptr) {
    return Unavailable("cannot serve gRPC on {}", c.address.string());
  }
  BERTH_RETURN_IF_ERROR(socket.Publish(c.grpc_uid, c.grpc_gid));
  s->published_ = true;
  BERTH_ASSIGN_OR_RETURN(s->acceptor_, GrpcAcceptor::Start(std::move(listener), s->grpc_.get()));
  if (!c.debug_address.empty()) {
    http::Routes routes;
    routes["/debug/vars"] = [](const http::Request&) {
      return http::Response{200, "application/json; charset=utf-8", DebugVarsJson()};
    };
    BERTH_ASSIGN_OR_RETURN(s->debug_, http::Server::Start(c.debug_address, std::move(routes),
                                                          {.uid = c.debug_uid, .gid = c.debug_gid}));
    log::Info("serving debug", {{"address", c.debug_address}, {"port", s->debug_->port()}});
  }
  runtime::TaskManager* task_manager = &s->runtime_->tasks();
  events::Exchange* exchange = s->exchange_.get();
  tel->SetDumpSources(telemetry::DumpSources{
      .containers = [task_manager] { return static_cast<uint64_t>(task_manager->ListAll().size()); },
      .events = [exchange] { return exchange->published(); },
      .event_subscribers = [exchange] { return static_cast<uint64_t>(exchange->subscribers()); },
  });
  if (c.metrics_interval.count() > 0) s->dumper_ = std::make_unique<telemetry::Dumper>(*tel, c.metrics_interval);
  if (!c.metrics_address.empty()) {
    auto collector = std::make_shared<telemetry::Collector>(*tel, CollectorSourcesOf(*s->db_, *s->services_,
                                                                                     *task_manager, *exchange));
    BERTH_ASSIGN_OR_RETURN(s->metrics_, metrics::Endpoint::Start(c.metrics_address, {tel->registry(), collector}));
    log::Info("serving metrics", {{"address", c.metrics_address}, {"path", metrics::kMetricsPath},
                                  {"port", s->metrics_->port()}});
  }
  if (!c.rest_address.empty()) {
    s->rest_api_ = std::make_unique<rest::Api>(s->services_->container_records, s->services_->task_control,
                                               s->services_->checkpoints, *s->exchange_);
    // ":port" is loopback: the REST API runs containers as root, so every interface must be
    // asked for by name.
    std::string address = c.rest_address.front() == ':' ? "127.0.0.1" + c.rest_address : c.rest_address;
    rest::Api* api = s->rest_api_.get();
    BERTH_ASSIGN_OR_RETURN(
        s->rest_, http::Server::Start(address, [api](const http::Request& r) { return api->Handle(r); },
                                      {.uid = c.rest_uid, .gid = c.rest_gid, .workers = 16, .body_limit = 1 << 20,
                                       .json_errors = true}));
    log::Info("serving REST API v1", {{"address", address}, {"port", s->rest_->port()}});
  }
  log::Info("berthd serving", {{"address", c.address.string()}, {"root", c.root.string()},
                               {"state", c.state.string()}, {"uuid", uuid},
                               {"instance", c.instance_id}});
  return s;
}

void Server::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  rest_.reset();   // its streams end and its handlers finish before the services go
  debug_.reset();  // its socket goes first, like the API's below
  if (grpc_) {
    log::Info("berthd shutting down", {{"address", config_.address.string()}});
    if (auto* health = grpc_->GetHealthCheckService()) health->SetServingStatus(false);
  }
  if (acceptor_) acceptor_->Stop();  // no new connections from here
  if (exchange_) exchange_->Close();
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc_->Wait();
    // Only a daemon that published the socket removes it: one that failed to start must not
    // delete the socket of the daemon it found there.
    if (published_) {
      std::error_code ec;
      std::filesystem::remove(config_.address, ec);
    }
  }
  if (runtime_) runtime_->Shutdown();
}

Server::Server(Config config, DirLock root_lock, DirLock state_lock)
    : config_(std::move(config)), root_lock_(std::move(root_lock)), state_lock_(std::move(state_lock)) {}

Server::~Server() { Shutdown(); }

}  // namespace berth::server
