// berth bench: the seed's benchmark as a verb, against any containerd-API socket (berthd or
// containerd): N containers of an image started P at a time through this one client (one
// connection), timed per container, then torn down P at a time (kill, wait, delete the task,
// remove the snapshot and the container), timed the same way. Prints the seed's timer figures
// per phase and containers/s (bench_report.h).
//
// A start is what `berth run -d` does, minus resolving the image each time: container (snapshot
// prepared on the image's chain id, spec from the image config with the snapshot mounted for
// the user lookups, record naming the runtime) + task with null stdio + start. The image is
// resolved once, before the batch (it must be pulled and unpacked in the snapshotter); every
// start carries the batch's lease, dropped after it.
//
//   berth bench [--count N] [--parallel P] [--runtime R] [--runc-binary crun] [--keep] IMAGE [-- CMD...]
//   berth bench --cleanup [--prefix PREFIX]
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "berth/bench_raw.h"
#include "berth/bench_report.h"
#include "berth/cli.h"
#include "client/container_spec.h"
#include "client/container_new.h"
#include "client/image_parts.h"
#include "common/labels.h"
#include "common/random_hex.h"
#include "common/timeutil.h"
#include "images/walk.h"
#include "mount/scoped_mount.h"
#include "oci/generate.h"
#include "oci/image_config.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

using Steady = std::chrono::steady_clock;
inline constexpr const char* kGcExpireLabel = "containerd.io/gc.expire";

struct BenchArgs {
  std::string image;
  std::vector<std::string> command = {"sleep", "100000"};
  int count = 100;
  int parallel = 10;
  std::string runtime = client::kRuncV2Runtime;
  std::string runc_binary;
  std::string snapshotter = kDefaultSnapshotter;
  std::string prefix = "bench";
  std::string latencies;           // start latencies, ns, one a line ("" none, "-" stdout)
  std::string teardown_latencies;  // the same for the teardown
  bool keep = false;
  bool cleanup = false;
  bool raw = false;     // the floor: the OCI runtime directly (bench_raw.h)
  std::string raw_dir;  // its bundles and runtime state ("" a temp dir)
};

using client::ImageParts;

std::mutex stderr_mu;
void Report(const std::string& line) {
  std::lock_guard lock(stderr_mu);
  std::cerr << "berth bench: " << line << '\n';
}

// The image resolved once for the whole batch; it must be unpacked in the snapshotter.
Result<ImageParts> LoadImage(client::Client& client, const BenchArgs& args) {
  BERTH_ASSIGN_OR_RETURN(ImageParts parts, client::LoadImage(client, args.image, images::HostPlatform()));
  if (auto parent = client.StatSnapshot(args.snapshotter, parts.chain_id); !parent.ok()) {
    return FailedPrecondition("image {} is not unpacked in {} (no snapshot {}): pull it first", args.image,
                              args.snapshotter, parts.chain_id);
  }
  return parts;
}

// Removes the snapshot and the container record, ignoring what is already gone.
Status RemoveContainer(client::Client& client, const BenchArgs& args, const std::string& id) {
  Status st = client.RemoveSnapshot(args.snapshotter, id);
  if (!st.ok() && !st.Is(Errc::kNotFound)) return st.Wrap("remove snapshot");
  st = client.DeleteContainer(id);
  if (!st.ok() && !st.Is(Errc::kNotFound)) return st.Wrap("delete container");
  return Status::Ok();
}

Result<client::Container> CreateContainer(client::Client& client, const BenchArgs& args, const ImageParts& image,
                                          const std::string& id) {
  auto mounts = client.PrepareSnapshot(args.snapshotter, id, image.chain_id);
  if (!mounts.ok()) return mounts.status().Wrap("prepare snapshot");
  oci::SpecOptions options;
  options.namespace_name = client.namespace_name();
  options.id = id;
  options.image = image.config;
  options.args = args.command;
  Result<oci::Spec> spec = Status(Errc::kUnknown, "");
  {
    auto rootfs = mount::ScopedMount::Create(*mounts);
    if (!rootfs.ok()) {
      (void)client.RemoveSnapshot(args.snapshotter, id);
      return rootfs.status().Wrap("mount the root filesystem");
    }
    options.rootfs = rootfs->path();
    spec = oci::GenerateSpec(options);
  }
  if (!spec.ok()) {
    (void)client.RemoveSnapshot(args.snapshotter, id);
    return spec.status();
  }
  client::Container c;
  c.id = id;
  c.image = image.image.name;
  c.labels = image.config.labels;
  for (const auto& [k, v] : image.image.labels) {
    if (labels::Validate(k, v).ok()) c.labels[k] = v;
  }
  c.labels[client::kStopSignalLabel] = image.config.stop_signal.empty() ? "SIGTERM" : image.config.stop_signal;
  c.runtime.name = args.runtime;
  if (args.runtime == client::kRuncV2Runtime) c.runtime.options = client::RuncOptionsAny(args.runc_binary);
  c.spec = client::SpecAny(oci::ToJson(*spec).dump());
  c.snapshotter = args.snapshotter;
  c.snapshot_key = id;
  auto created = client.CreateContainer(c);
  if (!created.ok()) {
    (void)client.RemoveSnapshot(args.snapshotter, id);
    return created.status().Wrap("create container");
  }
  return created;
}

// One start: container, task with null IO (no fifos: the shim uses /dev/null), start.
Status StartOne(client::Client& client, const BenchArgs& args, const ImageParts& image, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto container, CreateContainer(client, args, image, id));
  client::TaskCreateRequest request;
  request.container_id = id;
  auto rootfs = client.SnapshotMounts(args.snapshotter, id);
  if (!rootfs.ok()) return rootfs.status().Wrap("snapshot mounts");
  request.rootfs = std::move(*rootfs);
  if (auto pid = client.CreateTask(request); !pid.ok()) return pid.status().Wrap("create task");
  if (auto started = client.StartTask(id); !started.ok()) return started.status().Wrap("start task");
  return Status::Ok();
}

// Kill (SIGKILL), wait, delete the task, then the snapshot and the container.
Status TeardownOne(client::Client& client, const BenchArgs& args, const std::string& id) {
  Status st = client.KillTask(id, SIGKILL, /*all=*/false);
  if (st.ok()) {
    if (auto exit = client.WaitTask(id); !exit.ok()) return exit.status().Wrap("wait task");
  } else if (!st.Is(Errc::kNotFound) && !st.Is(Errc::kFailedPrecondition)) {
    return st.Wrap("kill task");  // (FailedPrecondition: a task that already stopped)
  }
  if (auto deleted = client.DeleteTask(id); !deleted.ok() && !deleted.status().Is(Errc::kNotFound)) {
    return deleted.status().Wrap("delete task");
  }
  return RemoveContainer(client, args, id);
}

// Runs `step(id)` for every id, `parallel` at a time, timing each: the phase's figures.
template <typename Step>
BenchPhase RunPhase(const std::string& name, const std::vector<std::string>& ids, int parallel, const Step& step) {
  std::vector<int64_t> latency(ids.size(), -1);
  std::atomic<size_t> next{0};
  const auto t0 = Steady::now();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(static_cast<size_t>(parallel), ids.size()); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < ids.size(); i = next++) {
        const auto s0 = Steady::now();
        Status st = step(ids[i]);
        if (st.ok()) {
          latency[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - s0).count();
        } else {
          Report(fmt::format("{} {}: {}", name, ids[i], st.ToString()));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  BenchPhase phase;
  phase.name = name;
  phase.wall = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - t0);
  for (int64_t ns : latency) {
    if (ns >= 0) {
      phase.latencies_ns.push_back(ns);
    } else {
      ++phase.failed;
    }
  }
  return phase;
}

// Writes the phase's latencies (ns, one a line) to `path` ("-": stdout).
Status WriteLatencies(const BenchPhase& phase, const std::string& path) {
  if (path.empty()) return Status::Ok();
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (path != "-") {
    file.open(path, std::ios::trunc);
    if (!file) return Unknown("cannot write {}", path);
    out = &file;
  }
  for (int64_t ns : phase.latencies_ns) *out << ns << '\n';
  out->flush();
  if (!*out) return Unknown("cannot write {}", path);
  return Status::Ok();
}

// The ids of the namespace's containers named `<prefix>-...` (what a --keep run left).
Result<std::vector<std::string>> OurContainers(client::Client& client, const std::string& prefix) {
  BERTH_ASSIGN_OR_RETURN(auto containers, client.ListContainers());
  std::vector<std::string> ids;
  for (const auto& c : containers) {
    if (c.id.rfind(prefix + "-", 0) == 0) ids.push_back(c.id);
  }
  return ids;
}

// Of `ids`, how many have a RUNNING task.
Result<int> CountRunning(client::Client& client, const std::vector<std::string>& ids) {
  BERTH_ASSIGN_OR_RETURN(auto tasks, client.ListTasks());
  std::set<std::string> ours(ids.begin(), ids.end());
  int running = 0;
  for (const auto& t : tasks) {
    // Tasks.List names a task by its id (the container's); container_id may be left empty.
    const std::string& id = t.container_id.empty() ? t.id : t.container_id;
    if (ours.count(id) != 0 && t.status == client::TaskStatus::kRunning) ++running;
  }
  return running;
}

int RunBench(const GlobalOptions& global, const BenchArgs& args) {
  auto dialed = Dial(global);
  if (!dialed) return kExitFailure;
  // A start under load may queue behind many others: longer than one CLI call's timeout.
  client::Client c = dialed->WithTimeout(std::max<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(global.timeout_value), std::chrono::minutes(2)));

  if (args.cleanup) {
    auto ids = OurContainers(c, args.prefix);
    if (!ids.ok()) return Fail(ids.status());
    BenchPhase teardown = RunPhase("teardown", *ids, args.parallel, [&](const std::string& id) {
      return TeardownOne(c, args, id);
    });
    std::cout << RenderBenchTable({teardown});
    return teardown.failed == 0 ? 0 : kExitFailure;
  }

  auto image = LoadImage(c, args);
  if (!image.ok()) return Fail(image.status());
  // One lease for the batch holds the snapshots until their containers do.
  const std::string lease_id = "berth-bench-" + RandomHex(8);
  auto expire = FormatRfc3339(Clock::now() + std::chrono::hours(24));
  if (auto lease = c.CreateLease(lease_id, {{kGcExpireLabel, expire}}); !lease.ok()) {
    return Fail(lease.status().Wrap("create lease"));
  }
  client::Client leased = c.WithLease(lease_id);

  const std::string run_tag = RandomHex(3);  // ids unique across batches
  std::vector<std::string> ids;
  for (int i = 1; i <= args.count; ++i) ids.push_back(fmt::format("{}-{}-{}", args.prefix, run_tag, i));

  std::cerr << fmt::format("berth bench: {} containers of {} ({}), {} at a time, {}\n", args.count, args.image,
                           fmt::join(args.command, " "), args.parallel,
                           args.raw ? "raw: " + (args.runc_binary.empty() ? std::string("runc") : args.runc_binary) +
                                          " run -d, no daemon"
                                    : "runtime " + args.runtime +
                                          (args.runc_binary.empty() ? "" : " (" + args.runc_binary + ")"));
  // --raw: the layers once as a read-only view (held by the lease until the end), a work dir.
  std::optional<RawBench> raw;
  std::string view_key, raw_dir;
  if (args.raw) {
    view_key = fmt::format("{}-{}-view", args.prefix, run_tag);
    auto view = leased.ViewSnapshot(args.snapshotter, view_key, image->chain_id);
    if (!view.ok()) return Fail(view.status().Wrap("view of the image's layers"));
    raw_dir = args.raw_dir;
    if (raw_dir.empty()) {
      std::string tmpl = "/var/tmp/berth-bench-raw-XXXXXX";
      if (::mkdtemp(tmpl.data()) == nullptr) return Fail(ErrnoStatus("mkdtemp " + tmpl, errno));
      raw_dir = tmpl;
    }
    auto made = RawBench::Create(*view, args.runc_binary, raw_dir, c.namespace_name(), image->config, args.command);
    if (!made.ok()) return Fail(made.status());
    raw = std::move(made).value();
  }
  auto start = [&](const std::string& id) { return raw ? raw->Start(id) : StartOne(leased, args, *image, id); };
  auto teardown = [&](const std::string& id) { return raw ? raw->Teardown(id) : TeardownOne(c, args, id); };

  std::vector<BenchPhase> phases;
  phases.push_back(RunPhase("start", ids, args.parallel, start));

  int rc = phases[0].failed == 0 ? 0 : kExitFailure;
  auto running = raw ? raw->CountRunning(ids) : CountRunning(c, ids);
  if (!running.ok()) {
    Report("list tasks: " + running.status().ToString());
    rc = kExitFailure;
  } else if (*running != static_cast<int>(phases[0].latencies_ns.size())) {
    Report(fmt::format("{} of {} started tasks are running", *running, phases[0].latencies_ns.size()));
    rc = kExitFailure;
  }
  if (!args.keep) {
    phases.push_back(RunPhase("teardown", ids, args.parallel, teardown));
    if (phases.back().failed != 0) rc = kExitFailure;
  }
  if (raw) {
    if (Status st = c.RemoveSnapshot(args.snapshotter, view_key); !st.ok()) Report("remove view: " + st.ToString());
    std::error_code ec;
    if (args.raw_dir.empty() && phases.back().failed == 0) fs::remove_all(raw_dir, ec);
    if (ec || !args.raw_dir.empty() || phases.back().failed != 0) Report("raw bundles and runtime state: " + raw_dir);
  }
  if (Status st = c.DeleteLease(lease_id); !st.ok()) Report(fmt::format("delete lease {}: {}", lease_id, st.ToString()));
  if (Status st = WriteLatencies(phases[0], args.latencies); !st.ok()) rc = Fail(st);
  if (!args.keep) {
    if (Status st = WriteLatencies(phases[1], args.teardown_latencies); !st.ok()) rc = Fail(st);
  }
  std::cout << RenderBenchTable(phases);
  // For scripts (bench/start-rate.sh): the figures they cannot recompute from the latencies.
  std::cerr << fmt::format("berth bench: summary: started={} failed={} wall_ns={} running={}", phases[0].latencies_ns.size(),
                           phases[0].failed, phases[0].wall.count(), running.ok() ? *running : -1);
  if (!args.keep) {
    std::cerr << fmt::format(" torn_down={} teardown_failed={} teardown_wall_ns={}", phases[1].latencies_ns.size(),
                             phases[1].failed, phases[1].wall.count());
  }
  std::cerr << std::endl;
  return rc;
}

}  // namespace

void AddBenchCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand(
      "bench", "Start N containers of an image P at a time, then tear them down, timing each (the seed's benchmark)");
  cmd->add_option("image", args->image, "Image (pulled and unpacked in the snapshotter)");
  cmd->add_option("command", args->command, "Command of every container (default: sleep 100000)");
  cmd->add_option("-c,--count", args->count, "Containers to start")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("-p,--parallel", args->parallel, "Concurrent starts (and teardowns)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--runtime", args->runtime, "Runtime of the containers")->capture_default_str();
  cmd->add_option("--runc-binary", args->runc_binary, "runc shim only: another runc-compatible binary (crun)");
  cmd->add_option("--snapshotter", args->snapshotter, "Snapshotter")->capture_default_str();
  cmd->add_option("--prefix", args->prefix, "Container ids PREFIX-RANDOM-I")->capture_default_str();
  cmd->add_option("--latencies", args->latencies, "Write the start latencies (ns, one a line) to FILE (- stdout)");
  cmd->add_option("--teardown-latencies", args->teardown_latencies, "The same for the teardown");
  cmd->add_flag("--keep", args->keep, "Leave the containers running (no teardown)");
  cmd->add_flag("--cleanup", args->cleanup, "Only tear down the containers named PREFIX-* (left by --keep)");
  cmd->add_flag("--raw", args->raw,
                "The floor: the same containers with the OCI runtime (--runc-binary, default runc) directly, "
                "no daemon or shim on the timed path");
  cmd->add_option("--raw-dir", args->raw_dir, "--raw: an empty directory for the bundles (default a temp dir)");
  cmd->callback([&cli, args] {
    if (!args->cleanup && args->image.empty()) throw CLI::RequiredError("image (unless --cleanup)");
    if (args->cleanup && !args->image.empty()) throw CLI::ValidationError("--cleanup", "takes no image");
    if (args->raw && (args->keep || args->cleanup)) throw CLI::ValidationError("--raw", "tears down its own batch");
    if (args->command.empty()) args->command = {"sleep", "100000"};
    cli.action = [&cli, args] { return RunBench(cli.global, *args); };
  });
}

}  // namespace berth::cli
