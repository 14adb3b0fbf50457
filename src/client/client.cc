#include "client/client.h"

#include <mutex>
#include <set>
#include <utility>

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include "client/address.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"

namespace berth::client {

// What the Clients made from one Connect share.
struct Client::Connection {
  Connection(std::string path, std::shared_ptr<grpc::Channel> chan)
      : socket_path(std::move(path)), channel(std::move(chan)), stubs(channel) {}

  const std::string socket_path;
  const std::shared_ptr<grpc::Channel> channel;
  const Stubs stubs;

  std::mutex mu;
  bool canceled = false;                  // guarded by mu
  std::set<grpc::ClientContext*> calls;  // calls Cancel() ends; guarded by mu
};

namespace {

Namespace FromProto(const namespacesv1::Namespace& ns) {
  return Namespace{ns.name(), labels::Labels(ns.labels().begin(), ns.labels().end())};
}

// Waits until the channel is connected, has failed, or `timeout` passed; the state then.
grpc_connectivity_state WaitConnected(grpc::Channel& channel, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::system_clock::now() + timeout;
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  // A unix socket fails at once when nobody listens: no point waiting out the backoff.
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE &&
         state != GRPC_CHANNEL_SHUTDOWN) {
    if (!channel.WaitForStateChange(state, deadline)) break;
    state = channel.GetState(/*try_to_connect=*/true);
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(std::string address, std::string namespace_name,
                                                Options options) {
  BERTH_ASSIGN_OR_RETURN(std::string path, SocketPath(address));

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageSize);
  args.SetMaxSendMessageSize(kMaxMessageSize);
  auto channel =
      grpc::CreateCustomChannel("unix:" + path, grpc::InsecureChannelCredentials(), args);
  grpc_connectivity_state state = options.connect_timeout.count() > 0
                                      ? WaitConnected(*channel, options.connect_timeout)
                                      : GRPC_CHANNEL_READY;  // not waiting: calls will tell
  if (state != GRPC_CHANNEL_READY) {
    // The channel does not say why; a plain connect does, unless the socket accepts.
    std::string reason = ProbeSocket(path);
    if (reason.empty()) {
      reason = state == GRPC_CHANNEL_TRANSIENT_FAILURE
                   ? "the connection failed"
                   : fmt::format("no answer within {}ms", options.connect_timeout.count());
    }
    return Unavailable("cannot connect to berthd at {}: {}", path, reason);
  }
  auto connection = std::make_shared<Connection>(std::move(path), std::move(channel));
  return std::unique_ptr<Client>(
      new Client(std::move(connection),
                 CallOptions{std::move(namespace_name), "", options.timeout}));
}

Client::Client(std::shared_ptr<Connection> connection, CallOptions call)
    : connection_(std::move(connection)), stubs_(&connection_->stubs), call_(std::move(call)) {}

const std::string& Client::socket_path() const { return connection_->socket_path; }

Client Client::With(CallOptions call) const { return Client(connection_, std::move(call)); }

Client Client::WithLease(std::string lease_id) const {
  CallOptions call = call_;
  call.lease = std::move(lease_id);
  return With(std::move(call));
}

Client Client::WithTimeout(std::chrono::milliseconds timeout) const {
  CallOptions call = call_;
  call.timeout = timeout;
  return With(std::move(call));
}

void Client::Prepare(grpc::ClientContext* context, bool unary) const {
  if (!call_.namespace_name.empty()) context->AddMetadata(kNamespaceHeader, call_.namespace_name);
  if (!call_.lease.empty()) context->AddMetadata(kLeaseHeader, call_.lease);
  if (unary && call_.timeout.count() > 0) {
    context->set_deadline(std::chrono::system_clock::now() + call_.timeout);
  }
}

Result<VersionInfo> Client::Version() const {
  grpc::ClientContext context;
  Prepare(&context, true);
  versionv1::VersionResponse response;
  grpc::Status status = stubs_->version->Version(&context, {}, &response);
  if (!status.ok()) return FromGrpc(status);
  return VersionInfo{response.version(), response.revision()};
}

Result<std::string> Client::ServerUuid() const {
  grpc::ClientContext context;
  Prepare(&context, true);
  introspectionv1::ServerResponse response;
  grpc::Status status = stubs_->introspection->Server(&context, {}, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.uuid();
}

Result<std::vector<Plugin>> Client::Plugins(const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  introspectionv1::PluginsRequest request;
  for (const auto& f : filters) request.add_filters(f);
  introspectionv1::PluginsResponse response;
  grpc::Status status = stubs_->introspection->Plugins(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return std::vector<Plugin>(response.plugins().begin(), response.plugins().end());
}

Result<std::vector<Namespace>> Client::ListNamespaces(const std::string& filter) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  namespacesv1::ListNamespacesRequest request;
  request.set_filter(filter);
  namespacesv1::ListNamespacesResponse response;
  grpc::Status status = stubs_->namespaces->List(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<Namespace> out;
  out.reserve(static_cast<size_t>(response.namespaces_size()));
  for (const auto& ns : response.namespaces()) out.push_back(FromProto(ns));
  return out;
}

Result<Namespace> Client::GetNamespace(const std::string& name) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  namespacesv1::GetNamespaceRequest request;
  request.set_name(name);
  namespacesv1::GetNamespaceResponse response;
  grpc::Status status = stubs_->namespaces->Get(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return FromProto(response.namespace_());
}

Result<Namespace> Client::CreateNamespace(const std::string& name,
                                          const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  namespacesv1::CreateNamespaceRequest request;
  request.mutable_namespace_()->set_name(name);
  request.mutable_namespace_()->mutable_labels()->insert(labels.begin(), labels.end());
  namespacesv1::CreateNamespaceResponse response;
  grpc::Status status = stubs_->namespaces->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return FromProto(response.namespace_());
}

Result<Namespace> Client::UpdateNamespaceLabels(const std::string& name,
                                                const labels::Labels& labels,
                                                const std::vector<std::string>& paths) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  namespacesv1::UpdateNamespaceRequest request;
  request.mutable_namespace_()->set_name(name);
  request.mutable_namespace_()->mutable_labels()->insert(labels.begin(), labels.end());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  namespacesv1::UpdateNamespaceResponse response;
  grpc::Status status = stubs_->namespaces->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return FromProto(response.namespace_());
}

Status Client::DeleteNamespace(const std::string& name) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  namespacesv1::DeleteNamespaceRequest request;
  request.set_name(name);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->namespaces->Delete(&context, request, &response));
}

Status Client::Publish(const std::string& topic, const google::protobuf::Any& event) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  eventsv1::PublishRequest request;
  request.set_topic(topic);
  *request.mutable_event() = event;
  google::protobuf::Empty response;
  return FromGrpc(stubs_->events->Publish(&context, request, &response));
}

Status Client::Subscribe(const std::vector<std::string>& filters,
                         const EventCallback& callback) const {
  grpc::ClientContext context;
  Prepare(&context, false);
  if (!RegisterLongCall(&context)) return Status::Ok();
  // Cancel() must not see the context once this returns.
  struct Unregister {
    const Client* client;
    grpc::ClientContext* context;
    ~Unregister() { client->UnregisterLongCall(context); }
  } unregister{this, &context};

  eventsv1::SubscribeRequest request;
  for (const auto& f : filters) request.add_filters(f);
  auto reader = stubs_->events->Subscribe(&context, request);

  Envelope envelope;
  bool stopped = false;
  while (reader->Read(&envelope)) {
    if (!callback(envelope)) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  // Drain what was in flight so that Finish() has the final status.
  while (reader->Read(&envelope)) {
  }
  grpc::Status status = reader->Finish();
  if (stopped) return Status::Ok();
  {
    std::lock_guard lock(connection_->mu);
    if (connection_->canceled && status.error_code() == grpc::StatusCode::CANCELLED) {
      return Status::Ok();
    }
  }
  return FromGrpc(status);
}

bool Client::RegisterLongCall(grpc::ClientContext* context) const {
  std::lock_guard lock(connection_->mu);
  if (connection_->canceled) return false;
  connection_->calls.insert(context);
  return true;
}

void Client::UnregisterLongCall(grpc::ClientContext* context) const {
  std::lock_guard lock(connection_->mu);
  connection_->calls.erase(context);
}

void Client::Cancel() const {
  std::lock_guard lock(connection_->mu);
  connection_->canceled = true;
  for (grpc::ClientContext* context : connection_->calls) context->TryCancel();
}

}  // namespace berth::client
