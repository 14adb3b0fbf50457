// berth's client library: a small counterpart of containerd's Go client for the services
// berthd serves (version, introspection, namespaces, events, content, images, leases,
// containers, tasks), over the same gRPC API.
//
//   BERTH_ASSIGN_OR_RETURN(auto client, Client::Connect("/run/berth/berth.sock", "default"));
//   BERTH_ASSIGN_OR_RETURN(auto namespaces, client->ListNamespaces());
//
// Every call carries the client's CallOptions, as containerd's clients carry a context: the
// namespace as the `containerd-namespace` gRPC metadata, the lease (WithLease) as
// `containerd-lease`, and the timeout as the deadline of unary calls.
// Errors come back as Status with containerd's error kinds.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "client/task_types.h"
#include "client/types.h"
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
// The gRPC metadata key carrying the lease new resources join (containerd's leases.WithLease).
inline constexpr const char* kLeaseHeader = "containerd-lease";
// Largest message either way, as containerd's defaults.
inline constexpr int kMaxMessageSize = 16 << 20;

struct Options {
  // Deadline of each unary call (the CallOptions::timeout of the Client Connect returns);
  // zero for none. Streams (Subscribe) never have one.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // How long Connect waits for the daemon to take the connection; zero to not wait (a
  // daemon that is not there then fails the first call, kUnavailable).
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
};

// What each call carries (containerd passes these in its context.Context).
struct CallOptions {
  // Sent as `containerd-namespace`; "" for none.
  std::string namespace_name;
  // Sent as `containerd-lease`: what the call creates (ingests, blobs, snapshots) joins the
  // lease, as with containerd's leases.WithLease; "" for none.
  std::string lease;
  // Deadline of each unary call; zero for none.
  std::chrono::milliseconds timeout{0};
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

// Thread-safe: a Client may be shared by threads; it is never mutated after Connect.
// Copies are cheap and share the connection; WithLease/WithTimeout/With make a Client that
// shares it with other CallOptions.
class Client {
 public:
  // Connects to the daemon at `address` ("/path" or "unix:///path"), waiting at most
  // options.connect_timeout: kUnavailable `cannot connect to berthd at PATH: REASON` when it
  // does not answer. An empty `namespace_name` sends no namespace.
  static Result<std::unique_ptr<Client>> Connect(std::string address, std::string namespace_name,
                                                 Options options = {});

  Client(const Client&) = default;
  Client(Client&&) noexcept = default;
  Client& operator=(const Client&) = delete;
  Client& operator=(Client&&) = delete;

  const std::string& socket_path() const;
  const CallOptions& call_options() const { return call_; }
  const std::string& namespace_name() const { return call_.namespace_name; }
  const std::string& lease() const { return call_.lease; }

  // A Client on the same connection whose calls carry `call` (or this one's options but for
  // the lease `lease_id`, "" for none, or the unary deadline `timeout`, zero for none).
  Client With(CallOptions call) const;
  Client WithLease(std::string lease_id) const;
  Client WithTimeout(std::chrono::milliseconds timeout) const;

  // Version service.
  Result<VersionInfo> Version() const;

  // Introspection service: the daemon's UUID and its plugins (filters as containerd's:
  // `type==io.containerd.grpc.v1`, `id==namespaces`, ...).
  Result<std::string> ServerUuid() const;
  Result<std::vector<Plugin>> Plugins(const std::vector<std::string>& filters = {}) const;

  // Namespaces service.
  Result<std::vector<Namespace>> ListNamespaces(const std::string& filter = "") const;
  Result<Namespace> GetNamespace(const std::string& name) const;
  Result<Namespace> CreateNamespace(const std::string& name,
                                    const labels::Labels& labels = {}) const;
  // Updates the labels named by `paths` ("labels" for all, "labels.<key>" for one; a key in
  // paths but not in `labels` is removed). Empty paths replace all labels.
  Result<Namespace> UpdateNamespaceLabels(const std::string& name, const labels::Labels& labels,
                                          const std::vector<std::string>& paths) const;
  Status DeleteNamespace(const std::string& name) const;

  // Events service. Publish sends `event` (see typeurl.h) on `topic` in the client's namespace.
  Status Publish(const std::string& topic, const google::protobuf::Any& event) const;
  // Streams events matching any of `filters` (all when empty) to `callback`, on the calling
  // thread, until the callback returns false, the daemon ends the stream, or Cancel() is
  // called. Ok in those cases unless the daemon ended the stream with an error.
  Status Subscribe(const std::vector<std::string>& filters, const EventCallback& callback) const;
  // Ends the running subscriptions and task waits, and any started later, of every Client on
  // this connection (this one, its copies and those made by With...). Callable from any
  // thread (not from a signal handler).
  void Cancel() const;

  // Content service (content.cc). Digests are "sha256:<hex>"; filters as containerd's
  // (`labels."k"==v`, `digest~=re`, ...).
  Result<ContentInfo> GetContentInfo(const std::string& digest) const;
  Result<std::vector<ContentInfo>> ListContent(const std::vector<std::string>& filters = {}) const;
  // Updates the labels named by `paths` (as UpdateNamespaceLabels) and returns the result.
  Result<ContentInfo> UpdateContentLabels(const std::string& digest, const labels::Labels& labels,
                                          const std::vector<std::string>& paths) const;
  Status DeleteContent(const std::string& digest) const;
  // Streams `size` bytes (0: to the end) from `offset` of the blob to `callback`.
  Status ReadContent(const std::string& digest, const ReadCallback& callback, int64_t offset = 0,
                     int64_t size = 0) const;
  Status ReadContent(const std::string& digest, std::ostream& out, int64_t offset = 0,
                     int64_t size = 0) const;
  // Reads a whole (small) blob into memory; kResourceExhausted past `limit` bytes.
  Result<std::string> ReadContentBlob(const std::string& digest, int64_t limit = 64 << 20) const;
  // Writes `in` to the store as the ingest `request.ref`. An ingest already open under that
  // ref is resumed: the first bytes of `in` it holds are skipped (after checking they match
  // it; if not, the ingest restarts from zero). A blob that already exists with the expected
  // digest is not written again (already_exists).
  Result<ContentWriteResult> WriteContent(std::istream& in,
                                          const ContentWriteRequest& request) const;
  Result<IngestStatus> GetIngestStatus(const std::string& ref) const;
  Result<std::vector<IngestStatus>> ListIngestStatuses(
      const std::vector<std::string>& filters = {}) const;
  Status AbortIngest(const std::string& ref) const;

  // Images service (images.cc).
  Result<Image> GetImage(const std::string& name) const;
  Result<std::vector<Image>> ListImages(const std::vector<std::string>& filters = {}) const;
  Result<Image> CreateImage(const Image& image) const;
  // Updates the fields named by `paths` ("labels", "labels.<key>", "target", "annotations"...;
  // empty: all) from `image`.
  Result<Image> UpdateImage(const Image& image, const std::vector<std::string>& paths) const;
  // `sync`: returns only once the garbage the removal left is collected.
  Status DeleteImage(const std::string& name, bool sync = false) const;

  // Leases service (leases.cc). An empty id lets the daemon pick one.
  Result<Lease> CreateLease(const std::string& id, const labels::Labels& labels = {}) const;
  Result<std::vector<Lease>> ListLeases(const std::vector<std::string>& filters = {}) const;
  Status DeleteLease(const std::string& id, bool sync = false) const;
  Status AddLeaseResource(const std::string& lease_id, const LeaseResource& resource) const;
  Status DeleteLeaseResource(const std::string& lease_id, const LeaseResource& resource) const;
  Result<std::vector<LeaseResource>> ListLeaseResources(const std::string& lease_id) const;

  // Containers service (containers.cc).
  Result<Container> GetContainer(const std::string& id) const;
  Result<std::vector<Container>> ListContainers(const std::vector<std::string>& filters = {}) const;
  Result<Container> CreateContainer(const Container& container) const;
  // Updates the fields named by `paths` ("labels.<key>", "image", "spec", ...; empty: all).
  Result<Container> UpdateContainer(const Container& container,
                                    const std::vector<std::string>& paths) const;
  Status DeleteContainer(const std::string& id) const;

  // Snapshots service (snapshots.cc), each call naming its snapshotter ("overlayfs",
  // "native"). Prepare and View return the new snapshot's mounts; an empty parent is none.
  Result<std::vector<Mount>> PrepareSnapshot(const std::string& snapshotter, const std::string& key,
                                             const std::string& parent,
                                             const labels::Labels& labels = {}) const;
  Result<std::vector<Mount>> ViewSnapshot(const std::string& snapshotter, const std::string& key,
                                          const std::string& parent,
                                          const labels::Labels& labels = {}) const;
  // The mounts of an active snapshot or a view (FailedPrecondition for a committed one).
  Result<std::vector<Mount>> SnapshotMounts(const std::string& snapshotter,
                                            const std::string& key) const;
  // Commits the active snapshot `key` as `name`.
  Status CommitSnapshot(const std::string& snapshotter, const std::string& name,
                        const std::string& key, const labels::Labels& labels = {}) const;
  // FailedPrecondition when the snapshot has children.
  Status RemoveSnapshot(const std::string& snapshotter, const std::string& key) const;
  Result<SnapshotInfo> StatSnapshot(const std::string& snapshotter, const std::string& key) const;
  // Updates the labels named by `paths` ("labels.<key>"; empty: all) from `info.labels`.
  Result<SnapshotInfo> UpdateSnapshotLabels(const std::string& snapshotter, const std::string& key,
                                            const labels::Labels& labels,
                                            const std::vector<std::string>& paths) const;
  // Snapshots matching any of `filters` (kind==, name==, parent==, labels."k"==...).
  Result<std::vector<SnapshotInfo>> ListSnapshots(
      const std::string& snapshotter, const std::vector<std::string>& filters = {}) const;
  Result<SnapshotUsage> GetSnapshotUsage(const std::string& snapshotter,
                                         const std::string& key) const;

  // Diff service (diff.cc). ApplyDiff unpacks the layer blob `layer` onto `mounts` (an active
  // snapshot's) and returns the descriptor of the uncompressed layer (its digest is the diff
  // id). CompareDiff writes the changes from `lower` to `upper` as a layer blob and returns its
  // descriptor (media type "" for the daemon's default, gzip; `ref` "" for a random one).
  Result<Descriptor> ApplyDiff(const Descriptor& layer, const std::vector<Mount>& mounts) const;
  Result<Descriptor> CompareDiff(const std::vector<Mount>& lower, const std::vector<Mount>& upper,
                                 const std::string& media_type = "", const std::string& ref = "",
                                 const labels::Labels& labels = {}) const;

  // Tasks service (tasks.cc). An empty exec_id names the task's init process. Wait has no
  // deadline; Cancel() ends it (kCanceled).
  // Creates the task of a container (its process created, not started); returns its pid.
  Result<uint32_t> CreateTask(const TaskCreateRequest& request) const;
  Result<uint32_t> StartTask(const std::string& container_id,
                             const std::string& exec_id = "") const;
  Result<ExitStatus> WaitTask(const std::string& container_id,
                              const std::string& exec_id = "") const;
  Status KillTask(const std::string& container_id, uint32_t signal, bool all = false,
                  const std::string& exec_id = "") const;
  Result<ExitStatus> DeleteTask(const std::string& container_id) const;
  Result<ExitStatus> DeleteProcess(const std::string& container_id,
                                   const std::string& exec_id) const;
  Result<TaskProcess> GetTask(const std::string& container_id,
                              const std::string& exec_id = "") const;
  Result<std::vector<TaskProcess>> ListTasks(const std::string& filter = "") const;
  Status ExecProcess(const ExecRequest& request) const;
  Result<std::vector<ProcessInfo>> ListPids(const std::string& container_id) const;
  // criu's dump of the task into the content store (the criu tar and spec descriptors; none when
  // the options keep the image at an image_path). `options`: containerd.runc.v1.CheckpointOptions.
  Result<std::vector<Descriptor>> CheckpointTask(
      const std::string& container_id, const std::optional<google::protobuf::Any>& options) const;
  Status PauseTask(const std::string& container_id) const;
  Status ResumeTask(const std::string& container_id) const;
  // Closes the process's stdin (the runtime's end of the stdin fifo).
  Status CloseIO(const std::string& container_id, const std::string& exec_id = "") const;
  Status ResizePty(const std::string& container_id, const std::string& exec_id, uint32_t width,
                   uint32_t height) const;
  // Metrics of the tasks matching `filters` (id==ID, ...; all when empty).
  Result<std::vector<TaskMetric>> TaskMetrics(const std::vector<std::string>& filters = {}) const;
  // Updates a running task's resources (an Any of the runtime's resources type, e.g. the OCI
  // spec's LinuxResources JSON) and/or annotations.
  Status UpdateTask(const std::string& container_id,
                    const std::optional<google::protobuf::Any>& resources,
                    const std::map<std::string, std::string>& annotations = {}) const;

 private:
  struct Stubs;
  struct Connection;           // channel, stubs and the calls Cancel() ends (client.cc)
  friend class ContentWriter;  // content_stream.cc: streams of their own over the stubs
  friend class ContentReader;

  Client(std::shared_ptr<Connection> connection, CallOptions call);
  // Sets the namespace (and lease) metadata and, for unary calls, the deadline.
  void Prepare(grpc::ClientContext* context, bool unary) const;
  // Registers a call without deadline so that Cancel() can end it; false when canceled already.
  bool RegisterLongCall(grpc::ClientContext* context) const;
  void UnregisterLongCall(grpc::ClientContext* context) const;

  std::shared_ptr<Connection> connection_;  // shared with the copies
  const Stubs* stubs_;                      // connection_'s
  CallOptions call_;
};

}  // namespace berth::client
