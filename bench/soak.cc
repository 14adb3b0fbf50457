// berth-soak: N container lifecycles through the gRPC API, then the daemon's footprint compared
// with its baseline (issue 18, "Soak"). One long-lived client (one gRPC channel) shared by P
// worker threads; each cycle, with a unique container id:
//
//   container   client::NewContainer, as `berth run` makes one: a lease of its own, the image's
//               config -> the spec (`sleep 100000`), a snapshot prepared on the image's chain id
//   task        created with null stdio (no fifos: the shim uses /dev/null), started
//   exec        a second process, `sh -c 'exit 3'`, started, waited for (its status must be 3)
//               and deleted
//   kill        SIGKILL to the task, wait (its status must be 137), delete the task
//   delete      the snapshot, then the container record
//
// A failed step is printed with the cycle's id (the first 20; all are counted), whatever the cycle
// made is then removed as well as can be, and the exit status is 1.
//
// With --pid PID --root DIR --state DIR (berthd's), it samples the daemon (bench/footprint.h)
// after --warmup cycles (default 2*P: thread pools, caches and SQLite's WAL at their working size)
// once it is quiet, and after the run once the counts are back (polling up to --settle seconds),
// and prints the table metric | before | after | delta | limit. --check: exit status 1 when a
// metric grew beyond its limit (fds, mounts, cgroups, shims, bundle, runc and snapshot dirs: not
// at all; threads: +2; RSS: --rss-slack-kib; SQLite: --db-slack-kib beyond the WAL's one-time
// growth to its checkpoint size).
//
//   berth-soak --address SOCK --namespace soak --image REF --cycles 10000 --parallel 10
//       [--runc-binary crun] [--pid PID --root DIR --state DIR [--check]]
//
// Works against containerd 1.6 too (without --pid, or with its pid and dirs). The image must be
// in the namespace, unpacked in overlayfs. A progress line goes to stderr every --progress
// seconds; when no cycle completes for --stall seconds or the daemon (--pid) is gone, the soak
// stops handing out cycles and cancels the client's waits (a hung daemon fails the soak instead
// of hanging it).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/container_new.h"
#include "client/container_spec.h"
#include "common/random_hex.h"
#include "common/status.h"
#include "footprint.h"

namespace berth::bench {
namespace {

using Steady = std::chrono::steady_clock;

inline constexpr const char* kExecId = "soak-exec";
inline constexpr uint32_t kExecExitCode = 3;
inline constexpr uint32_t kKilledExitCode = 128 + 9;  // SIGKILL, as the shim reports it
inline constexpr int kMaxPrintedErrors = 20;

struct Flags {
  std::string address = client::kDefaultAddress;
  std::string namespace_name = "soak";
  std::string image;
  int cycles = 10000;
  int parallel = 10;
  int warmup = -1;  // -1: 2 * parallel
  std::string runc_binary;
  std::string prefix = "soak";
  int call_timeout = 120;  // s, each unary call
  int progress = 30;       // s between progress lines, 0: none
  int stall = 300;         // s without a completed cycle before the soak gives up
  // Footprint.
  int pid = 0;
  std::string root;
  std::string state;
  int settle = 10;
  bool check = false;
  int64_t rss_slack_kib = 4096;
  int64_t db_slack_kib = 1024;
};

std::mutex stderr_mu;
template <typename... Args>
void Report(fmt::format_string<Args...> format, Args&&... args) {
  std::string line = fmt::format(format, std::forward<Args>(args)...);
  std::lock_guard lock(stderr_mu);
  std::cerr << "berth-soak: " << line << std::endl;
}

std::atomic<int> errors_printed{0};
void ReportFailure(const std::string& id, const Status& st) {
  const int n = ++errors_printed;
  if (n <= kMaxPrintedErrors) {
    Report("cycle {}: {}", id, st.ToString());
  } else if (n == kMaxPrintedErrors + 1) {
    Report("(further failures are counted, not printed)");
  }
}

// Running, not a zombie (berthd is the calling script's child; its zombie keeps /proc/PID).
bool PidAlive(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const size_t paren = line.rfind(')');  // the command name may hold anything but not end there
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

// The exec'd process: the container's own process spec with other args, no terminal (as ctr's
// and berth's exec make it).
Result<std::string> ExecProcessJson(const client::Container& container) {
  if (!container.spec) return InvalidArgument("container {} has no spec", container.id);
  auto spec = nlohmann::json::parse(container.spec->value(), nullptr, false);
  if (spec.is_discarded() || !spec.is_object()) {
    return InvalidArgument("container {}: its spec is not a JSON object", container.id);
  }
  auto p = spec.find("process");
  if (p == spec.end() || !p->is_object()) {
    return InvalidArgument("container {}: its spec has no process", container.id);
  }
  nlohmann::json process = *p;
  nlohmann::json args = nlohmann::json::array();
  args.push_back("sh");
  args.push_back("-c");
  args.push_back(fmt::format("exit {}", kExecExitCode));
  process["args"] = std::move(args);
  process.erase("terminal");
  return process.dump();
}

// What of a cycle's task exists, for the clean-up after a failed step.
struct TaskSteps {
  bool task = false;
  bool exec = false;
};

// Task, exec and kill of one container; `steps` tracks what exists.
Status TaskLifecycle(client::Client& c, const client::Container& container, TaskSteps& steps) {
  const std::string& id = container.id;
  client::TaskCreateRequest create;
  create.container_id = id;
  auto rootfs = c.SnapshotMounts(container.snapshotter, container.snapshot_key);
  if (!rootfs.ok()) return rootfs.status().Wrap("snapshot mounts");
  create.rootfs = std::move(*rootfs);
  if (auto pid = c.CreateTask(create); !pid.ok()) return pid.status().Wrap("create task");
  steps.task = true;
  if (auto pid = c.StartTask(id); !pid.ok()) return pid.status().Wrap("start task");

  BERTH_ASSIGN_OR_RETURN(std::string process, ExecProcessJson(container));
  client::ExecRequest exec;
  exec.container_id = id;
  exec.exec_id = kExecId;
  exec.spec = client::ProcessSpecAny(std::move(process));
  if (Status st = c.ExecProcess(exec); !st.ok()) return st.Wrap("exec");
  steps.exec = true;
  if (auto pid = c.StartTask(id, kExecId); !pid.ok()) return pid.status().Wrap("start exec");
  auto exec_exit = c.WaitTask(id, kExecId);
  if (!exec_exit.ok()) return exec_exit.status().Wrap("wait exec");
  if (exec_exit->code != kExecExitCode) {
    return Unknown("exec exited with status {}, not {}", exec_exit->code, kExecExitCode);
  }
  if (auto deleted = c.DeleteProcess(id, kExecId); !deleted.ok()) {
    return deleted.status().Wrap("delete exec");
  }
  steps.exec = false;

  if (Status st = c.KillTask(id, SIGKILL); !st.ok()) return st.Wrap("kill task");
  auto task_exit = c.WaitTask(id);
  if (!task_exit.ok()) return task_exit.status().Wrap("wait task");
  if (task_exit->code != kKilledExitCode) {
    return Unknown("task exited with status {} after SIGKILL, not {}", task_exit->code, kKilledExitCode);
  }
  if (auto deleted = c.DeleteTask(id); !deleted.ok()) return deleted.status().Wrap("delete task");
  steps.task = false;
  return Status::Ok();
}

// Best effort after a failed step: kill everything in the task, wait, delete it, then the
// snapshot and the container, so that a failure does not also show up as a leak. Returns what
// went wrong ("" if nothing).
std::string Undo(client::Client& c, const client::Container& container, const TaskSteps& steps) {
  std::vector<std::string> errors;
  const std::string& id = container.id;
  auto gone = [](const Status& st) { return st.ok() || st.Is(Errc::kNotFound); };
  if (steps.task) {
    Status killed = c.KillTask(id, SIGKILL, /*all=*/true);
    if (!gone(killed) && !killed.Is(Errc::kFailedPrecondition)) {
      errors.push_back(killed.Wrap("kill").ToString());
    } else if (killed.ok()) {
      if (auto waited = c.WaitTask(id); !waited.ok()) errors.push_back(waited.status().Wrap("wait").ToString());
    }
    if (steps.exec) {
      if (auto deleted = c.DeleteProcess(id, kExecId); !gone(deleted.status())) {
        errors.push_back(deleted.status().Wrap("delete exec").ToString());
      }
    }
    if (auto deleted = c.DeleteTask(id); !gone(deleted.status())) {
      errors.push_back(deleted.status().Wrap("delete task").ToString());
    }
  }
  if (Status st = client::DeleteContainerAndSnapshot(c, container); !gone(st)) {
    errors.push_back(st.Wrap("delete container").ToString());
  }
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
  return out;
}

Status Cycle(client::Client& c, const Flags& flags, const std::string& id) {
  client::NewContainerOptions options;
  options.id = id;
  options.image = flags.image;
  options.spec.args = {"sleep", "100000"};
  options.runc_binary = flags.runc_binary;
  auto container = client::NewContainer(c, std::move(options));  // leaves nothing on failure
  if (!container.ok()) return container.status().Wrap("new container");
  TaskSteps steps;
  if (Status st = TaskLifecycle(c, *container, steps); !st.ok()) {
    const std::string undo = Undo(c, *container, steps);
    if (undo.empty()) return st;
    return Status(st.code(), st.message() + " (clean-up: " + undo + ")");
  }
  if (Status st = client::DeleteContainerAndSnapshot(c, *container); !st.ok()) {
    return st.Wrap("delete container");
  }
  return Status::Ok();
}

struct Counters {
  std::atomic<int> done{0};    // cycles finished, failed or not
  std::atomic<int> failed{0};
};

// Cycles 1..n (ids PREFIXi) on `parallel` threads until done or `stop`.
void RunCycles(client::Client& c, const Flags& flags, const std::string& id_prefix, int n,
               Counters& counters, const std::atomic<bool>& stop) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < std::min(flags.parallel, n); ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < n && !stop; i = next++) {
        const std::string id = fmt::format("{}{}", id_prefix, i + 1);
        if (Status st = Cycle(c, flags, id); !st.ok()) {
          ++counters.failed;
          ReportFailure(id, st);
        }
        ++counters.done;
      }
    });
  }
  for (auto& worker : workers) worker.join();
}

// Watches a phase from its own thread: a progress line every --progress seconds; when no cycle
// completed for --stall seconds or the daemon (--pid) is gone, sets `stop` (no new cycles) and
// cancels the client's waits, once.
class Watch {
 public:
  Watch(const client::Client& client, const Flags& flags, const Counters& counters, int total,
        std::atomic<bool>& stop, std::string phase)
      : client_(client), flags_(flags), counters_(counters), total_(total), stop_(stop),
        phase_(std::move(phase)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Watch() {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  bool aborted() const { return aborted_; }

 private:
  void Loop() {
    const auto t0 = Steady::now();
    auto last_print = t0;
    auto last_change = t0;
    int last_done = counters_.done;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return finished_; })) {
      const auto now = Steady::now();
      const int done = counters_.done;
      if (done != last_done) {
        last_done = done;
        last_change = now;
      }
      if (flags_.progress > 0 && now - last_print >= std::chrono::seconds(flags_.progress)) {
        last_print = now;
        const double secs = std::chrono::duration<double>(now - t0).count();
        Report("{}: {}/{} cycles, {} failed, {:.2f} cycles/s", phase_, done, total_,
               counters_.failed.load(), secs > 0 ? done / secs : 0.0);
      }
      if (aborted_) continue;
      if (flags_.pid > 0 && !PidAlive(flags_.pid)) {
        Report("{}: berthd (pid {}) is gone; stopping", phase_, flags_.pid);
        Abort();
      } else if (flags_.stall > 0 && now - last_change >= std::chrono::seconds(flags_.stall)) {
        Report("{}: no cycle completed for {} s; stopping and canceling the waits", phase_, flags_.stall);
        Abort();
      }
    }
  }
  void Abort() {
    aborted_ = true;
    stop_ = true;
    client_.Cancel();
  }

  const client::Client& client_;
  const Flags& flags_;
  const Counters& counters_;
  const int total_;
  std::atomic<bool>& stop_;
  const std::string phase_;
  std::atomic<bool> aborted_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::thread thread_;  // last: started once everything above is set
};

// Phase runner: the cycles with their watch. Returns true unless the watch gave up.
bool RunPhase(client::Client& c, const Flags& flags, const std::string& phase,
              const std::string& id_prefix, int n, Counters& counters, std::atomic<bool>& stop) {
  Watch watch(c, flags, counters, n, stop, phase);
  RunCycles(c, flags, id_prefix, n, counters, stop);
  return !watch.aborted();
}

// After the warm-up: waits (up to `settle` seconds) until the daemon is quiet (no shim, bundle or
// runc state left, fds, threads and mounts unchanged over half a second) and returns that sample.
Footprint QuietBaseline(const FootprintTarget& target, int settle) {
  const auto deadline = Steady::now() + std::chrono::seconds(settle);
  Footprint prev = TakeFootprint(target);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Footprint cur = TakeFootprint(target);
    const bool quiet = cur.shims.empty() && cur.children.empty() && cur.bundles.empty() &&
                       cur.runc_dirs.empty() &&
                       cur.fds == prev.fds && cur.threads == prev.threads &&
                       cur.mounts.size() == prev.mounts.size();
    if (quiet) return cur;
    if (Steady::now() >= deadline) {
      Report("the daemon was not quiet {} s after the warm-up ({} shims, {} bundles); baseline taken anyway",
             settle, cur.shims.size(), cur.bundles.size());
      return cur;
    }
    prev = std::move(cur);
  }
}

// After the run: polls (up to `settle` seconds) until every row is within its limit; the last
// sample.
Footprint Settled(const FootprintTarget& target, const Footprint& before,
                  const FootprintTolerance& tolerance, int settle) {
  const auto deadline = Steady::now() + std::chrono::seconds(settle);
  for (;;) {
    Footprint cur = TakeFootprint(target);
    if (AllWithin(CompareFootprints(before, cur, tolerance)) || Steady::now() >= deadline) return cur;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::string SocketPath(const std::string& address) {
  constexpr std::string_view kUnix = "unix://";
  if (address.rfind(kUnix, 0) == 0) return address.substr(kUnix.size());
  return address;
}

int Run(const Flags& flags) {
  client::Options options;
  options.timeout = std::chrono::seconds(flags.call_timeout);
  auto connected = client::Client::Connect(flags.address, flags.namespace_name, options);
  if (!connected.ok()) {
    Report("{}", connected.status().ToString());
    return 1;
  }
  client::Client& c = **connected;
  if (auto image = c.GetImage(flags.image); !image.ok()) {
    Report("image {}: {}", flags.image, image.status().ToString());
    return 1;
  }

  std::optional<FootprintTarget> target;
  if (flags.pid > 0) {
    target = FootprintTarget{static_cast<pid_t>(flags.pid), flags.root, flags.state,
                             SocketPath(flags.address), flags.namespace_name};
  }
  FootprintTolerance tolerance;
  tolerance.rss_slack_kib = flags.rss_slack_kib;
  tolerance.db_slack_kib = flags.db_slack_kib;

  const int warmup = flags.warmup >= 0 ? flags.warmup : 2 * flags.parallel;
  const std::string ids = fmt::format("{}-{}-", flags.prefix, RandomHex(3));  // unique per run
  Report("{} cycles, {} at a time, after {} warm-up cycles; image {}, runtime {}, namespace {}",
         flags.cycles, flags.parallel, warmup, flags.image,
         flags.runc_binary.empty() ? "runc" : flags.runc_binary, flags.namespace_name);

  std::atomic<bool> stop{false};
  Counters warm;
  bool completed = true;
  if (warmup > 0) completed = RunPhase(c, flags, "warm-up", ids + "w", warmup, warm, stop);

  Footprint before;
  if (target && completed) before = QuietBaseline(*target, flags.settle);

  Counters run;
  double wall_s = 0;
  if (completed) {
    const auto t0 = Steady::now();
    completed = RunPhase(c, flags, "soak", ids, flags.cycles, run, stop);
    wall_s = std::chrono::duration<double>(Steady::now() - t0).count();
  }

  const int failed = warm.failed.load() + run.failed.load();
  const int not_run = flags.cycles - run.done.load();
  int rc = (failed == 0 && not_run == 0 && completed) ? 0 : 1;
  if (target) {
    Footprint after = Settled(*target, before, tolerance, flags.settle);
    auto rows = CompareFootprints(before, after, tolerance);
    std::cout << FormatFootprintTable(rows);
    if (!AllWithin(rows)) {
      std::cout << "grew (" << (flags.check ? "--check fails" : "not checked") << "):\n";
      for (const auto& line : FootprintGrowth(before, after)) std::cout << "  " << line << '\n';
      if (flags.check) rc = 1;
    }
  }
  const int ok = run.done.load() - run.failed.load();
  std::cout << fmt::format("cycles ok      {}\n", ok);
  std::cout << fmt::format("cycles failed  {}", run.failed.load());
  if (warm.failed > 0) std::cout << fmt::format(" (and {} of {} warm-up cycles)", warm.failed.load(), warmup);
  if (not_run > 0) std::cout << fmt::format(" ({} not run: the soak stopped)", not_run);
  std::cout << '\n';
  std::cout << fmt::format("wall time s    {:.1f}\n", wall_s);
  std::cout << fmt::format("cycles/s       {:.2f}\n", wall_s > 0 ? run.done.load() / wall_s : 0.0);
  std::cout.flush();
  return rc;
}

}  // namespace
}  // namespace berth::bench

int main(int argc, char** argv) {
  berth::bench::Flags flags;
  CLI::App app{"Create/start/exec/kill/delete N containers through one client, P at a time, and "
               "compare berthd's footprint before and after (bench/README.md)",
               "berth-soak"};
  app.add_option("--address", flags.address, "Daemon socket")->capture_default_str();
  app.add_option("-n,--namespace", flags.namespace_name, "Namespace")->capture_default_str();
  app.add_option("--image", flags.image, "Image (in the namespace, unpacked in overlayfs)")->required();
  app.add_option("--cycles", flags.cycles, "Cycles measured")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--parallel", flags.parallel, "Concurrent cycles (worker threads)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", flags.warmup, "Cycles before the baseline (default 2 * parallel)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--runc-binary", flags.runc_binary, "runc-compatible binary for the runc shim (crun)");
  app.add_option("--prefix", flags.prefix, "Container id prefix (ids PREFIX-RANDOM-[w]I)")->capture_default_str();
  app.add_option("--timeout", flags.call_timeout, "Deadline of each unary call, s")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--progress", flags.progress, "Seconds between progress lines on stderr (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--stall", flags.stall, "Give up when no cycle completes for this many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  auto* pid = app.add_option("--pid", flags.pid, "berthd's pid: sample its footprint before and after")
                  ->check(CLI::PositiveNumber);
  app.add_option("--root", flags.root, "berthd's root dir (with --pid)")->needs(pid);
  app.add_option("--state", flags.state, "berthd's state dir (with --pid)")->needs(pid);
  app.add_option("--settle", flags.settle, "Seconds to wait for the counts to come back")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--check", flags.check, "Exit 1 when a metric grew beyond its limit")->needs(pid);
  app.add_option("--rss-slack-kib", flags.rss_slack_kib, "RSS growth allowed, KiB")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--db-slack-kib", flags.db_slack_kib,
                 "SQLite growth allowed beyond the WAL's growth to its checkpoint size, KiB")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (flags.pid > 0 && (flags.root.empty() || flags.state.empty())) {
    std::cerr << "berth-soak: --pid needs --root and --state\n";
    return 2;
  }
  return berth::bench::Run(flags);
}
