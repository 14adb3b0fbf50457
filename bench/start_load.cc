// berth-start-load: a start-rate load generator aimed at the daemon, not at the CLI. One
// long-lived client (one gRPC channel) is shared by P worker threads that start N containers
// running `sleep 100000`, each start as `berth run -d` does it: container (spec from the image
// config, snapshot prepared on the image's chain id) + task with null stdio + start. A `ctr`
// process per start costs ~40-50 ms of Go start-up on a small machine and hides the daemon
// (machine-notes.md); this does not.
//
//   berth-start-load --address SOCK --namespace bench --image REF --count 100 --parallel 10
//       [--runc-binary crun] [--latencies FILE] [--keep]
//   berth-start-load --address SOCK --namespace bench --cleanup
//
// Writes one start latency (ns, from before the container create to the start's return) per
// started container to --latencies (default stdout), each failure with its error on stderr, and
// a last stderr line `summary: started=S failed=F wall_ns=W` (W: wall time of the whole batch).
// Then, unless --keep, kills (SIGKILL), waits for and deletes every task and removes every
// container and snapshot it made (P at a time, not timed). Exit status 1 if a start failed.
//
// Works against berthd and containerd 1.6 alike. The image must be pulled (and unpacked in the
// snapshotter) in the namespace already. The image is resolved once (manifest, config, chain id)
// before the batch; every start carries the batch's lease (one lease held during the batch,
// dropped after it), where `berth run` makes and deletes a lease per start: the client's lease
// is one per client, and this client is shared by every worker.
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "client/container_new.h"
#include "images/rootfs.h"
#include "images/walk.h"
#include "client/client.h"
#include "client/container_spec.h"
#include "common/labels.h"
#include "common/status.h"
#include "common/timeutil.h"
#include "mount/scoped_mount.h"
#include "oci/generate.h"
#include "oci/image_config.h"

namespace berth::bench {
namespace {

using Steady = std::chrono::steady_clock;

inline constexpr const char* kGcExpireLabel = "containerd.io/gc.expire";
using client::kStopSignalLabel;
inline constexpr const char* kSnapshotter = "overlayfs";

struct Flags {
  std::string address = client::kDefaultAddress;
  std::string namespace_name = "default";
  std::string image;
  int count = 100;
  int parallel = 10;
  std::string runc_binary;
  std::string latencies;  // "" or "-": stdout
  std::string prefix = "load";
  bool cleanup = false;
  bool keep = false;
};

// What every container of the batch is made from, resolved once.
struct ImageParts {
  client::Image image;
  oci::ImageConfig config;
  std::string chain_id;
};

std::mutex stderr_mu;
template <typename... Args>
void Report(fmt::format_string<Args...> format, Args&&... args) {
  std::string line = fmt::format(format, std::forward<Args>(args)...);
  std::lock_guard lock(stderr_mu);
  std::cerr << "berth-start-load: " << line << '\n';
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  std::string out;
  for (unsigned char c : buf) out += fmt::format("{:02x}", c);
  return out;
}

Result<ImageParts> LoadImage(client::Client& client, const std::string& ref) {
  BERTH_ASSIGN_OR_RETURN(auto image, client.GetImage(ref));
  images::FetchBlob fetch = [&client](const images::BlobDescriptor& d) {
    return client.ReadContentBlob(d.digest);
  };
  BERTH_ASSIGN_OR_RETURN(auto manifest, images::ResolveManifest(image.target, images::HostPlatform(), fetch));
  BERTH_ASSIGN_OR_RETURN(auto config_blob, fetch(manifest.config));
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, images::ConfigDiffIds(config_blob));
  BERTH_ASSIGN_OR_RETURN(auto config, oci::ParseImageConfig(config_blob));
  std::string chain_id = images::ChainId(diff_ids);
  if (auto parent = client.StatSnapshot(kSnapshotter, chain_id); !parent.ok()) {
    return parent.status().Wrap(fmt::format("image {} unpacked in {} (snapshot {})", ref,
                                            kSnapshotter, chain_id));
  }
  return ImageParts{std::move(image), std::move(config), std::move(chain_id)};
}

// Removes the snapshot and the container record, ignoring what is already gone.
Status RemoveContainer(client::Client& client, const std::string& id) {
  Status st = client.RemoveSnapshot(kSnapshotter, id);
  if (!st.ok() && !st.Is(Errc::kNotFound)) return st.Wrap("remove snapshot");
  st = client.DeleteContainer(id);
  if (!st.ok() && !st.Is(Errc::kNotFound)) return st.Wrap("delete container");
  return Status::Ok();
}

// The container `id`: snapshot on the image's chain id, spec from its config (the snapshot
// mounted for the user and group lookups, as berth run does), record naming the runc shim v2.
Result<client::Container> CreateContainer(client::Client& client, const Flags& flags,
                                          const ImageParts& image, const std::string& id) {
  auto mounts = client.PrepareSnapshot(kSnapshotter, id, image.chain_id);
  if (!mounts.ok()) return mounts.status().Wrap("prepare snapshot");
  oci::SpecOptions options;
  options.namespace_name = flags.namespace_name;
  options.id = id;
  options.image = image.config;
  options.args = {"sleep", "100000"};
  Result<oci::Spec> spec = Status(Errc::kUnknown, "");
  {
    auto rootfs = mount::ScopedMount::Create(*mounts);
    if (!rootfs.ok()) {
      (void)client.RemoveSnapshot(kSnapshotter, id);
      return rootfs.status().Wrap("mount the root filesystem");
    }
    options.rootfs = rootfs->path();
    spec = oci::GenerateSpec(options);
  }
  if (!spec.ok()) {
    (void)client.RemoveSnapshot(kSnapshotter, id);
    return spec.status();
  }
  client::Container c;
  c.id = id;
  c.image = image.image.name;
  c.labels = image.config.labels;
  for (const auto& [k, v] : image.image.labels) {
    if (labels::Validate(k, v).ok()) c.labels[k] = v;
  }
  c.labels[kStopSignalLabel] =
      image.config.stop_signal.empty() ? "SIGTERM" : image.config.stop_signal;
  c.runtime.name = client::kRuncV2Runtime;
  c.runtime.options = client::RuncOptionsAny(flags.runc_binary);
  c.spec = client::SpecAny(oci::ToJson(*spec).dump());
  c.snapshotter = kSnapshotter;
  c.snapshot_key = id;
  auto created = client.CreateContainer(c);
  if (!created.ok()) {
    (void)client.RemoveSnapshot(kSnapshotter, id);
    return created.status().Wrap("create container");
  }
  return created;
}

// One start: container, task with null IO (no fifos: the shim uses /dev/null), start.
Status StartOne(client::Client& client, const Flags& flags, const ImageParts& image,
                const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto container, CreateContainer(client, flags, image, id));
  client::TaskCreateRequest request;
  request.container_id = id;
  auto rootfs = client.SnapshotMounts(kSnapshotter, id);
  if (!rootfs.ok()) return rootfs.status().Wrap("snapshot mounts");
  request.rootfs = std::move(*rootfs);
  if (auto pid = client.CreateTask(request); !pid.ok()) return pid.status().Wrap("create task");
  if (auto started = client.StartTask(id); !started.ok()) {
    return started.status().Wrap("start task");
  }
  return Status::Ok();
}

// Kill (SIGKILL), wait, delete the task, then the snapshot and the container.
Status CleanupOne(client::Client& client, const std::string& id) {
  Status st = client.KillTask(id, SIGKILL, /*all=*/false);
  if (st.ok()) {
    if (auto exit = client.WaitTask(id); !exit.ok()) return exit.status().Wrap("wait task");
  } else if (!st.Is(Errc::kNotFound) && !st.Is(Errc::kFailedPrecondition)) {
    return st.Wrap("kill task");  // (FailedPrecondition: a task that already stopped)
  }
  if (auto deleted = client.DeleteTask(id); !deleted.ok() && !deleted.status().Is(Errc::kNotFound)) {
    return deleted.status().Wrap("delete task");
  }
  return RemoveContainer(client, id);
}

// Runs `work(i)` for i in [0, n) on `parallel` threads; returns when all are done.
template <typename Work>
void RunParallel(int n, int parallel, const Work& work) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(parallel, n); ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) work(i);
    });
  }
  for (auto& t : threads) t.join();
}

int Cleanup(client::Client& client, const Flags& flags, const std::vector<std::string>& ids) {
  std::atomic<int> failed{0};
  RunParallel(static_cast<int>(ids.size()), flags.parallel, [&](int i) {
    if (Status st = CleanupOne(client, ids[static_cast<size_t>(i)]); !st.ok()) {
      ++failed;
      Report("cleanup {}: {}", ids[static_cast<size_t>(i)], st.ToString());
    }
  });
  return failed == 0 ? 0 : 1;
}

// Every container of the namespace named `<prefix>-...` (what an earlier --keep run left).
Result<std::vector<std::string>> OurContainers(client::Client& client, const Flags& flags) {
  BERTH_ASSIGN_OR_RETURN(auto containers, client.ListContainers());
  std::vector<std::string> ids;
  for (const auto& c : containers) {
    if (c.id.rfind(flags.prefix + "-", 0) == 0) ids.push_back(c.id);
  }
  return ids;
}

int Run(const Flags& flags) {
  client::Options options;
  options.timeout = std::chrono::seconds(120);
  auto client = client::Client::Connect(flags.address, flags.namespace_name, options);
  if (!client.ok()) {
    Report("{}", client.status().ToString());
    return 1;
  }
  client::Client& c = **client;
  if (flags.cleanup) {
    auto ids = OurContainers(c, flags);
    if (!ids.ok()) {
      Report("list containers: {}", ids.status().ToString());
      return 1;
    }
    return Cleanup(c, flags, *ids);
  }

  auto image = LoadImage(c, flags.image);
  if (!image.ok()) {
    Report("image {}: {}", flags.image, image.status().ToString());
    return 1;
  }
  // One lease for the batch holds the snapshots until their containers do: the workers'
  // calls carry it.
  const std::string lease_id = "berth-start-load-" + RandomHex(8);
  auto expire = FormatRfc3339(Clock::now() + std::chrono::hours(24));
  if (auto lease = c.CreateLease(lease_id, {{kGcExpireLabel, expire}}); !lease.ok()) {
    Report("create lease: {}", lease.status().ToString());
    return 1;
  }
  client::Client leased = c.WithLease(lease_id);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!flags.latencies.empty() && flags.latencies != "-") {
    file.open(flags.latencies, std::ios::trunc);
    if (!file) {
      Report("cannot write {}", flags.latencies);
      return 1;
    }
    out = &file;
  }

  const std::string run_tag = RandomHex(3);  // ids unique across batches of one daemon
  std::vector<std::string> ids(static_cast<size_t>(flags.count));
  for (int i = 0; i < flags.count; ++i) {
    ids[static_cast<size_t>(i)] = fmt::format("{}-{}-{}", flags.prefix, run_tag, i + 1);
  }
  std::vector<int64_t> latency_ns(ids.size(), -1);
  const auto t0 = Steady::now();
  RunParallel(flags.count, flags.parallel, [&](int i) {
    const auto& id = ids[static_cast<size_t>(i)];
    const auto s0 = Steady::now();
    Status st = StartOne(leased, flags, *image, id);
    const auto s1 = Steady::now();
    if (st.ok()) {
      latency_ns[static_cast<size_t>(i)] =
          std::chrono::duration_cast<std::chrono::nanoseconds>(s1 - s0).count();
    } else {
      Report("start {}: {}", id, st.ToString());
    }
  });
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - t0);

  int started = 0;
  for (int64_t ns : latency_ns) {
    if (ns < 0) continue;
    *out << ns << '\n';
    ++started;
  }
  out->flush();
  const int failed = flags.count - started;
  Report("summary: started={} failed={} wall_ns={}", started, failed, wall.count());

  if (Status st = c.DeleteLease(lease_id); !st.ok()) {
    Report("delete lease {}: {}", lease_id, st.ToString());
  }
  int rc = failed == 0 ? 0 : 1;
  if (!flags.keep && Cleanup(c, flags, ids) != 0) rc = 1;
  return rc;
}

}  // namespace
}  // namespace berth::bench

int main(int argc, char** argv) {
  berth::bench::Flags flags;
  CLI::App app{"Start N containers through one client with P concurrent requests (bench/README.md)",
               "berth-start-load"};
  app.add_option("--address", flags.address, "Daemon socket")->capture_default_str();
  app.add_option("-n,--namespace", flags.namespace_name, "Namespace")->capture_default_str();
  app.add_option("--image", flags.image, "Image (pulled and unpacked in overlayfs already)");
  app.add_option("--count", flags.count, "Containers to start")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--parallel", flags.parallel, "Concurrent starts (worker threads)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--runc-binary", flags.runc_binary, "runc-compatible binary for the runc shim");
  app.add_option("--latencies", flags.latencies, "File for the latencies, ns, one a line (default stdout)");
  app.add_option("--prefix", flags.prefix, "Container id prefix (ids PREFIX-RANDOM-I)")
      ->capture_default_str();
  app.add_flag("--cleanup", flags.cleanup,
               "Only remove the tasks, containers and snapshots named PREFIX-* in the namespace");
  app.add_flag("--keep", flags.keep, "Leave the containers running after the batch");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!flags.cleanup && flags.image.empty()) {
    std::cerr << "berth-start-load: --image is required (unless --cleanup)\n";
    return 2;
  }
  return berth::bench::Run(flags);
}
