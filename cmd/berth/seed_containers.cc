// The seed's container workflows (containerd 0.0.x's `ctr containers`) on berth, for containers
// run from OCI bundles: `berth containers` alone lists ID PATH STATUS PID1; `containers start ID
// BUNDLE [--attach]`, `containers kill --pid --signal ID`, `containers exec --id ID [--attach]
// [--cwd] [--tty] [--env] [--uid] [--gid] ARGS...`, `containers stats ID`; `containers start
// --checkpoint NAME` restores one of the container's named checkpoints (`berth checkpoints`). They speak
// containerd's gRPC API, so the containers are ordinary ones to ctr (and the REST API).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "berth/cli.h"
#include "berth/output.h"
#include "berth/process_session.h"
#include "berth/task_exec.h"
#include "berth/task_metrics.h"
#include "berth/task_run.h"
#include "berth/task_signals.h"
#include "checkpoint/media_types.h"
#include "client/checkpoint.h"
#include "client/container_spec.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "oci/bundle.h"

namespace berth::cli {
namespace {

struct SeedArgs {
  std::string id;
  std::string bundle;
  std::string checkpoint;
  std::vector<std::string> labels;
  bool attach = false;
  uint32_t pid = 0;  // 0: the init process
  std::string signal = "15";
  ExecArgs exec;
};

int RunSeedList(const GlobalOptions& global, const SeedArgs&) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto containers = client->ListContainers();
  if (!containers.ok()) return Fail(containers.status());
  auto tasks = client->ListTasks();
  if (!tasks.ok()) return Fail(tasks.status());
  std::map<std::string, client::TaskProcess> by_id;
  for (const auto& t : *tasks) by_id[t.id] = t;
  Table table({"ID", "PATH", "STATUS", "PID1"});
  for (const auto& c : *containers) {
    auto t = by_id.find(c.id);
    if (t == by_id.end()) continue;  // the seed lists running containers
    auto bundle = c.labels.find(oci::kBundleLabel);
    std::string status(client::TaskStatusName(t->second.status));
    for (auto& ch : status) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    table.AddRow({c.id, bundle != c.labels.end() ? bundle->second : "", status, std::to_string(t->second.pid)});
  }
  std::cout << table.Render() << std::flush;
  return 0;
}

int RunSeedStart(const GlobalOptions& global, const SeedArgs& args) {
  auto bundle = oci::LoadBundle(std::filesystem::absolute(args.bundle).lexically_normal().string(),
                                "/" + global.namespace_name + "/" + args.id);
  if (!bundle.ok()) return Fail(bundle.status());
  const bool tty = bundle->terminal;
  std::optional<ProcessSession> session;
  if (args.attach) session.emplace(tty);
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Container c;
  c.id = args.id;
  for (const auto& l : args.labels) {
    size_t eq = l.find('=');
    c.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  c.labels[oci::kBundleLabel] = bundle->dir;
  c.runtime.name = client::kRuncV2Runtime;
  c.spec = client::SpecAny(bundle->spec_json);
  TaskRunOptions run{tty, !args.attach, std::nullopt};
  if (!args.checkpoint.empty()) {
    // The seed restored a container from one of its own named checkpoints.
    auto criu = client::CheckpointCriuImage(*client, checkpoint::NamedCheckpointImage(args.id, args.checkpoint));
    if (!criu.ok()) return Fail(criu.status());
    run.checkpoint = *criu;
  }
  auto created = client->CreateContainer(c);
  if (!created.ok()) return Fail(created.status());
  auto code = RunTask(*client, *created, run, session ? &*session : nullptr);
  // Attached, the container goes with its process (the seed's containers ended at exit); a
  // failed start leaves nothing either.
  if (!code.ok() || args.attach) {
    if (Status st = client->DeleteContainer(args.id); !st.ok()) PrintError("removing the container: " + st.ToString());
  }
  if (!code.ok()) return Fail(code.status());
  return *code;
}

int RunSeedKill(const GlobalOptions& global, const SeedArgs& args) {
  auto sig = ParseSignal(args.signal);
  if (!sig.ok()) return Fail(sig.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto task = client->GetTask(args.id);
  if (!task.ok()) return Fail(task.status());
  std::string exec_id;
  if (args.pid != 0 && args.pid != task->pid) {
    auto pids = client->ListPids(args.id);
    if (!pids.ok()) return Fail(pids.status());
    for (const auto& p : *pids) {
      containerd::runc::v1::ProcessDetails details;
      if (p.pid == args.pid && p.info && details.ParseFromString(p.info->value())) exec_id = details.exec_id();
    }
    if (exec_id.empty()) return Fail(NotFound("process {} not found in container {}", args.pid, args.id));
  }
  if (Status st = client->KillTask(args.id, static_cast<uint32_t>(*sig), false, exec_id); !st.ok()) return Fail(st);
  return 0;
}

int RunSeedExec(const GlobalOptions& global, const SeedArgs& args) {
  ExecArgs exec = args.exec;
  exec.detach = !args.attach;
  return RunExec(global, exec);
}

int RunSeedStats(const GlobalOptions& global, const SeedArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto metric = TaskMetricOf(*client, args.id);
  if (!metric.ok()) return Fail(metric.status());
  auto out = FormatMetricsTable(*metric);
  if (!out.ok()) return Fail(out.status());
  std::cout << *out << std::flush;
  return 0;
}

}  // namespace

void AddSeedContainerCommands(CLI::App* group, Cli& cli) {
  auto args = std::make_shared<SeedArgs>();
  // `berth containers` with no subcommand: the seed's listing.
  group->callback([&cli, group, args] {
    if (group->get_subcommands().empty()) cli.action = [&cli, args] { return RunSeedList(cli.global, *args); };
  });

  auto* start = group->add_subcommand("start", "Start a container from an OCI bundle: containers start ID BUNDLE");
  start->add_option("id", args->id, "Container id")->required();
  start->add_option("bundle", args->bundle, "Bundle directory (config.json and its rootfs)")->required();
  start->add_flag("-a,--attach", args->attach, "Attach to the container's stdio and wait for it; remove it at exit");
  start->add_option("-c,--checkpoint", args->checkpoint, "Start from this checkpoint of the container");
  start->add_option("-l,--label", args->labels, "Label key=value (repeatable)");
  Bind(cli, start, args, RunSeedStart);

  auto* kill = group->add_subcommand("kill", "Send a signal to a container's process (default its init, SIGTERM)");
  kill->add_option("id", args->id, "Container id")->required();
  kill->add_option("-p,--pid", args->pid, "Pid of the process (default: the init process)");
  kill->add_option("-s,--signal", args->signal, "Signal, as 15, TERM or SIGTERM")->capture_default_str();
  Bind(cli, kill, args, RunSeedKill);

  auto* exec = group->add_subcommand("exec", "Run another process in a container: containers exec --id ID ARGS...");
  exec->add_option("--id", args->exec.id, "Container id")->required();
  exec->add_flag("-a,--attach", args->attach, "Attach to the process's stdio and wait for it");
  exec->add_option("--cwd", args->exec.cwd, "Working directory of the process");
  exec->add_flag("-t,--tty", args->exec.tty, "Give the process a terminal");
  exec->add_option("-e,--env", args->exec.env, "Environment variable K=V (repeatable)");
  exec->add_option("-u,--uid", args->exec.uid, "User id to run as");
  exec->add_option("-g,--gid", args->exec.gid, "Group id to run as");
  exec->add_option("args", args->exec.command, "Command and arguments")->required();
  Bind(cli, exec, args, RunSeedExec);

  auto* stats = group->add_subcommand("stats", "Show a container's cgroup figures");
  stats->add_option("id", args->id, "Container id")->required();
  Bind(cli, stats, args, RunSeedStats);
}

}  // namespace berth::cli
