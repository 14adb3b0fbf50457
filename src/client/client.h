// berth's client library: a small counterpart of containerd's Go client for the services
// berthd serves (version, introspection, namespaces, events), over the same gRPC API.
//
//   BERTH_ASSIGN_OR_RETURN(auto client, Client::Connect("/run/berth/berth.sock", "default"));
//   BERTH_ASSIGN_OR_RETURN(auto namespaces, client->ListNamespaces());
//
// Every call carries the client's namespace as the `containerd-namespace` gRPC metadata, as
// containerd's clients do. Errors come back as Status with containerd's error kinds.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "common/labels.h"
#include "common/status.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"
#include "github.com/containerd/containerd/api/services/introspection/v1/introspection.pb.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace berth::client {

// The default daemon address.
inline constexpr const char* kDefaultAddress = "/run/berth/berth.sock";
// The gRPC metadata key carrying the namespace.
inline constexpr const char* kNamespaceHeader = "containerd-namespace";
// Largest message either way, as containerd's defaults.
inline constexpr int kMaxMessageSize = 16 << 20;

struct Options {
  // Deadline of each unary call; zero for none. Streams (Subscribe) never have one.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // How long Connect waits for the daemon to take the connection; zero to not wait (a
  // daemon that is not there then fails the first call, kUnavailable).
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
};

struct VersionInfo {
  std::string version;
  std::string revision;
};

struct Namespace {
  std::string name;
  labels::Labels labels;
};

using Plugin = containerd::services::introspection::v1::Plugin;
using Envelope = containerd::services::events::v1::Envelope;
// Receives each event; returning false ends the subscription.
using EventCallback = std::function<bool(const Envelope&)>;

class Client {
 public:
  // Connects to the daemon at `address` ("/path" or "unix:///path"), waiting at most
  // options.connect_timeout: kUnavailable `cannot connect to berthd at PATH: REASON` when it
  // does not answer. An empty `namespace_name` sends no namespace.
  static Result<std::unique_ptr<Client>> Connect(std::string address, std::string namespace_name,
                                                 Options options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  const std::string& namespace_name() const { return namespace_; }
  void set_timeout(std::chrono::milliseconds timeout) { options_.timeout = timeout; }

  // Version service.
  Result<VersionInfo> Version();

  // Introspection service: the daemon's UUID and its plugins (filters as containerd's:
  // `type==io.containerd.grpc.v1`, `id==namespaces`, ...).
  Result<std::string> ServerUuid();
  Result<std::vector<Plugin>> Plugins(const std::vector<std::string>& filters = {});

  // Namespaces service.
  Result<std::vector<Namespace>> ListNamespaces(const std::string& filter = "");
  Result<Namespace> GetNamespace(const std::string& name);
  Result<Namespace> CreateNamespace(const std::string& name, const labels::Labels& labels = {});
  // Updates the labels named by `paths` ("labels" for all, "labels.<key>" for one; a key in
  // paths but not in `labels` is removed). Empty paths replace all labels.
  Result<Namespace> UpdateNamespaceLabels(const std::string& name, const labels::Labels& labels,
                                          const std::vector<std::string>& paths);
  Status DeleteNamespace(const std::string& name);

  // Events service. Publish sends `event` (see typeurl.h) on `topic` in the client's namespace.
  Status Publish(const std::string& topic, const google::protobuf::Any& event);
  // Streams events matching any of `filters` (all when empty) to `callback`, on the calling
  // thread, until the callback returns false, the daemon ends the stream, or Cancel() is
  // called. Ok in those cases unless the daemon ended the stream with an error.
  Status Subscribe(const std::vector<std::string>& filters, const EventCallback& callback);
  // Ends the running subscriptions and any started later. Thread-safe; callable from any
  // thread (not from a signal handler).
  void Cancel();

 private:
  struct Stubs;

  Client(std::string socket_path, std::string namespace_name, Options options,
         std::shared_ptr<grpc::Channel> channel);
  // Sets the namespace metadata and, for unary calls, the deadline.
  void Prepare(grpc::ClientContext* context, bool unary) const;

  std::string socket_path_;
  std::string namespace_;
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stubs> stubs_;

  std::mutex mu_;
  bool canceled_ = false;                   // guarded by mu_
  std::set<grpc::ClientContext*> streams_;  // guarded by mu_
};

}  // namespace berth::client
