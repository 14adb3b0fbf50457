// berth's client library: a small counterpart of containerd's Go client for the services
// berthd serves (version, introspection, namespaces, events, content, images, leases,
// containers, tasks), over the same gRPC API.
//
//   BERTH_ASSIGN_OR_RETURN(auto client, Client::Connect("/run/berth/berth.sock", "default"));
//   BERTH_ASSIGN_OR_RETURN(auto namespaces, client->ListNamespaces());
//
// Every call carries the client's namespace as the `containerd-namespace` gRPC metadata, as
// containerd's clients do, and the client's lease (set_lease) as `containerd-lease`.
// Errors come back as Status with containerd's error kinds.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <set>
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
  // Every later call carries `lease_id` as `containerd-lease` ("" for none): what it creates
  // (ingests, blobs) joins the lease, as with containerd's leases.WithLease.
  void set_lease(std::string lease_id) { lease_ = std::move(lease_id); }
  const std::string& lease() const { return lease_; }

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

  // Content service (content.cc). Digests are "sha256:<hex>"; filters as containerd's
  // (`labels."k"==v`, `digest~=re`, ...).
  Result<ContentInfo> GetContentInfo(const std::string& digest);
  Result<std::vector<ContentInfo>> ListContent(const std::vector<std::string>& filters = {});
  // Updates the labels named by `paths` (as UpdateNamespaceLabels) and returns the result.
  Result<ContentInfo> UpdateContentLabels(const std::string& digest, const labels::Labels& labels,
                                          const std::vector<std::string>& paths);
  Status DeleteContent(const std::string& digest);
  // Streams `size` bytes (0: to the end) from `offset` of the blob to `callback`.
  Status ReadContent(const std::string& digest, const ReadCallback& callback, int64_t offset = 0,
                     int64_t size = 0);
  Status ReadContent(const std::string& digest, std::ostream& out, int64_t offset = 0,
                     int64_t size = 0);
  // Reads a whole (small) blob into memory; kResourceExhausted past `limit` bytes.
  Result<std::string> ReadContentBlob(const std::string& digest, int64_t limit = 64 << 20);
  // Writes `in` to the store as the ingest `request.ref`. An ingest already open under that
  // ref is resumed: the first bytes of `in` it holds are skipped (after checking they match
  // it; if not, the ingest restarts from zero). A blob that already exists with the expected
  // digest is not written again (already_exists).
  Result<ContentWriteResult> WriteContent(std::istream& in, const ContentWriteRequest& request);
  Result<IngestStatus> GetIngestStatus(const std::string& ref);
  Result<std::vector<IngestStatus>> ListIngestStatuses(
      const std::vector<std::string>& filters = {});
  Status AbortIngest(const std::string& ref);

  // Images service (images.cc).
  Result<Image> GetImage(const std::string& name);
  Result<std::vector<Image>> ListImages(const std::vector<std::string>& filters = {});
  Result<Image> CreateImage(const Image& image);
  // Updates the fields named by `paths` ("labels", "labels.<key>", "target", "annotations"...;
  // empty: all) from `image`.
  Result<Image> UpdateImage(const Image& image, const std::vector<std::string>& paths);
  // `sync`: returns only once the garbage the removal left is collected.
  Status DeleteImage(const std::string& name, bool sync = false);

  // Leases service (leases.cc). An empty id lets the daemon pick one.
  Result<Lease> CreateLease(const std::string& id, const labels::Labels& labels = {});
  Result<std::vector<Lease>> ListLeases(const std::vector<std::string>& filters = {});
  Status DeleteLease(const std::string& id, bool sync = false);
  Status AddLeaseResource(const std::string& lease_id, const LeaseResource& resource);
  Status DeleteLeaseResource(const std::string& lease_id, const LeaseResource& resource);
  Result<std::vector<LeaseResource>> ListLeaseResources(const std::string& lease_id);

  // Containers service (containers.cc).
  Result<Container> GetContainer(const std::string& id);
  Result<std::vector<Container>> ListContainers(const std::vector<std::string>& filters = {});
  Result<Container> CreateContainer(const Container& container);
  // Updates the fields named by `paths` ("labels.<key>", "image", "spec", ...; empty: all).
  Result<Container> UpdateContainer(const Container& container,
                                    const std::vector<std::string>& paths);
  Status DeleteContainer(const std::string& id);

  // Snapshots service (snapshots.cc), each call naming its snapshotter ("overlayfs",
  // "native"). Prepare and View return the new snapshot's mounts; an empty parent is none.
  Result<std::vector<Mount>> PrepareSnapshot(const std::string& snapshotter, const std::string& key,
                                             const std::string& parent,
                                             const labels::Labels& labels = {});
  Result<std::vector<Mount>> ViewSnapshot(const std::string& snapshotter, const std::string& key,
                                          const std::string& parent,
                                          const labels::Labels& labels = {});
  // The mounts of an active snapshot or a view (FailedPrecondition for a committed one).
  Result<std::vector<Mount>> SnapshotMounts(const std::string& snapshotter, const std::string& key);
  // Commits the active snapshot `key` as `name`.
  Status CommitSnapshot(const std::string& snapshotter, const std::string& name,
                        const std::string& key, const labels::Labels& labels = {});
  // FailedPrecondition when the snapshot has children.
  Status RemoveSnapshot(const std::string& snapshotter, const std::string& key);
  Result<SnapshotInfo> StatSnapshot(const std::string& snapshotter, const std::string& key);
  // Updates the labels named by `paths` ("labels.<key>"; empty: all) from `info.labels`.
  Result<SnapshotInfo> UpdateSnapshotLabels(const std::string& snapshotter, const std::string& key,
                                            const labels::Labels& labels,
                                            const std::vector<std::string>& paths);
  // Snapshots matching any of `filters` (kind==, name==, parent==, labels."k"==...).
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& snapshotter,
                                                  const std::vector<std::string>& filters = {});
  Result<SnapshotUsage> GetSnapshotUsage(const std::string& snapshotter, const std::string& key);

  // Diff service (diff.cc). ApplyDiff unpacks the layer blob `layer` onto `mounts` (an active
  // snapshot's) and returns the descriptor of the uncompressed layer (its digest is the diff
  // id). CompareDiff writes the changes from `lower` to `upper` as a layer blob and returns its
  // descriptor (media type "" for the daemon's default, gzip; `ref` "" for a random one).
  Result<Descriptor> ApplyDiff(const Descriptor& layer, const std::vector<Mount>& mounts);
  Result<Descriptor> CompareDiff(const std::vector<Mount>& lower, const std::vector<Mount>& upper,
                                 const std::string& media_type = "", const std::string& ref = "",
                                 const labels::Labels& labels = {});

  // Tasks service (tasks.cc). An empty exec_id names the task's init process. Wait has no
  // deadline; Cancel() ends it (kCanceled).
  // Creates the task of a container (its process created, not started); returns its pid.
  Result<uint32_t> CreateTask(const TaskCreateRequest& request);
  Result<uint32_t> StartTask(const std::string& container_id, const std::string& exec_id = "");
  Result<ExitStatus> WaitTask(const std::string& container_id, const std::string& exec_id = "");
  Status KillTask(const std::string& container_id, uint32_t signal, bool all = false,
                  const std::string& exec_id = "");
  Result<ExitStatus> DeleteTask(const std::string& container_id);
  Result<ExitStatus> DeleteProcess(const std::string& container_id, const std::string& exec_id);
  Result<TaskProcess> GetTask(const std::string& container_id, const std::string& exec_id = "");
  Result<std::vector<TaskProcess>> ListTasks(const std::string& filter = "");
  Status ExecProcess(const ExecRequest& request);
  Result<std::vector<ProcessInfo>> ListPids(const std::string& container_id);
  // criu's dump of the task into the content store (the criu tar and spec descriptors; none when
  // the options keep the image at an image_path). `options`: containerd.runc.v1.CheckpointOptions.
  Result<std::vector<Descriptor>> CheckpointTask(const std::string& container_id,
                                                 const std::optional<google::protobuf::Any>& options);
  Status PauseTask(const std::string& container_id);
  Status ResumeTask(const std::string& container_id);
  // Closes the process's stdin (the runtime's end of the stdin fifo).
  Status CloseIO(const std::string& container_id, const std::string& exec_id = "");
  Status ResizePty(const std::string& container_id, const std::string& exec_id, uint32_t width,
                   uint32_t height);
  // Metrics of the tasks matching `filters` (id==ID, ...; all when empty).
  Result<std::vector<TaskMetric>> TaskMetrics(const std::vector<std::string>& filters = {});
  // Updates a running task's resources (an Any of the runtime's resources type, e.g. the OCI
  // spec's LinuxResources JSON) and/or annotations.
  Status UpdateTask(const std::string& container_id,
                    const std::optional<google::protobuf::Any>& resources,
                    const std::map<std::string, std::string>& annotations = {});

 private:
  struct Stubs;
  friend class ContentWriter;  // content_stream.cc: streams of their own over the stubs
  friend class ContentReader;

  Client(std::string socket_path, std::string namespace_name, Options options,
         std::shared_ptr<grpc::Channel> channel);
  // Sets the namespace (and lease) metadata and, for unary calls, the deadline.
  void Prepare(grpc::ClientContext* context, bool unary) const;
  // Registers a call without deadline so that Cancel() can end it; false when canceled already.
  bool RegisterLongCall(grpc::ClientContext* context);
  void UnregisterLongCall(grpc::ClientContext* context);

  std::string socket_path_;
  std::string namespace_;
  std::string lease_;
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stubs> stubs_;

  std::mutex mu_;
  bool canceled_ = false;                   // guarded by mu_
  std::set<grpc::ClientContext*> streams_;  // guarded by mu_
};

}  // namespace berth::client
