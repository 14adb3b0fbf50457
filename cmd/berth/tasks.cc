// berth tasks: the processes of containers (`ctr tasks`): list, start, kill, exec, pause,
// resume, ps, metrics, rm, attach.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/container_new.h"
#include "berth/output.h"
#include "berth/process_session.h"
#include "berth/task_metrics.h"
#include "berth/task_run.h"
#include "berth/task_signals.h"
#include "berth/task_exec.h"
#include "client/cio.h"
#include "client/container_spec.h"
#include "client/typeurl.h"

namespace berth::cli {
namespace {

struct TaskArgs {
  std::string id;
  std::vector<std::string> ids;      // rm
  std::vector<std::string> command;  // exec
  std::string exec_id;
  std::string signal;
  std::string cwd;
  std::string format = kFormatTable;
  bool all = false;
  bool quiet = false;
  bool force = false;
  bool tty = false;
  bool detach = false;
};

int RunList(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto tasks = client->ListTasks();
  if (!tasks.ok()) return Fail(tasks.status());
  if (args.quiet) {
    for (const auto& t : *tasks) std::cout << t.id << '\n';
  } else {
    Table table({"TASK", "PID", "STATUS"});
    for (const auto& t : *tasks) {
      table.AddRow({t.id, std::to_string(t.pid), std::string(client::TaskStatusName(t.status))});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

int RunStart(const GlobalOptions& global, const TaskArgs& args) {
  std::optional<ProcessSession> session;
  if (!args.detach) session.emplace(false);
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto got = GetContainerAndSpec(*client, args.id);
  if (!got.ok()) return Fail(got.status());
  const bool tty = SpecTerminal(got->spec);
  if (session) session->set_terminal(tty);
  auto code = RunTask(*client, got->container, {tty, args.detach}, session ? &*session : nullptr);
  if (!code.ok()) return Fail(code.status());
  return *code;
}

int RunKill(const GlobalOptions& global, const TaskArgs& args) {
  if (args.all && !args.exec_id.empty()) {
    PrintError("specify an exec-id or all; not both");
    return kExitUsage;
  }
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  std::string name = args.signal;
  if (name.empty()) {
    // The image's stop signal, as ctr's GetStopSignal.
    auto container = client->GetContainer(args.id);
    if (!container.ok()) return Fail(container.status());
    auto it = container->labels.find(kStopSignalLabel);
    name = it != container->labels.end() ? it->second : "SIGTERM";
  }
  auto sig = ParseSignal(name);
  if (!sig.ok()) return Fail(sig.status());
  if (Status st = client->KillTask(args.id, static_cast<uint32_t>(*sig), args.all, args.exec_id);
      !st.ok()) {
    return Fail(st);
  }
  return 0;
}

int RunPause(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (Status st = client->PauseTask(args.id); !st.ok()) return Fail(st);
  return 0;
}

int RunResume(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (Status st = client->ResumeTask(args.id); !st.ok()) return Fail(st);
  return 0;
}

int RunPs(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto pids = client->ListPids(args.id);
  if (!pids.ok()) return Fail(pids.status());
  Table table({"PID", "INFO"});
  for (const auto& p : *pids) {
    table.AddRow({std::to_string(p.pid), p.info ? client::DescribeAny(*p.info) : std::string("-")});
  }
  std::cout << table.Render() << std::flush;
  return 0;
}

int RunMetrics(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto metric = TaskMetricOf(*client, args.id);
  if (!metric.ok()) return Fail(metric.status());
  auto out = args.format == kFormatJson ? FormatMetricsJson(*metric) : FormatMetricsTable(*metric);
  if (!out.ok()) return Fail(out.status());
  std::cout << *out << std::flush;
  if (args.format == kFormatJson) std::cout << std::endl;
  return 0;
}

// Kills (SIGKILL) and waits for a process that is still running, for `rm -f`.
Status KillAndWait(client::Client& client, const std::string& id, const std::string& exec_id) {
  auto process = client.GetTask(id, exec_id);
  if (!process.ok()) return process.status();
  if (process->status == client::TaskStatus::kStopped ||
      process->status == client::TaskStatus::kCreated) {
    return Status::Ok();
  }
  BERTH_RETURN_IF_ERROR(client.KillTask(id, SIGKILL, false, exec_id));
  return client.WaitTask(id, exec_id).status();
}

int RunRemove(const GlobalOptions& global, const TaskArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (!args.exec_id.empty()) {
    if (args.force) {
      if (Status st = KillAndWait(*client, args.ids.front(), args.exec_id); !st.ok()) {
        return Fail(st);
      }
    }
    auto process = client->GetTask(args.ids.front(), args.exec_id);
    auto deleted = client->DeleteProcess(args.ids.front(), args.exec_id);
    if (!deleted.ok()) return Fail(deleted.status());
    if (process.ok()) client::RemoveFifoDir({process->stdin_path, process->stdout_path,
                                              process->stderr_path, process->terminal});
    return ExitCodeOf(deleted->code);
  }
  int exit_code = 0;
  for (const auto& id : args.ids) {
    if (args.force) {
      if (Status st = KillAndWait(*client, id, ""); !st.ok()) {
        exit_code = Fail(st.Wrap(fmt::format("unable to delete {}", id)));
        continue;
      }
    }
    auto task = client->GetTask(id);
    auto deleted = client->DeleteTask(id);
    if (!deleted.ok()) {
      exit_code = Fail(deleted.status().Wrap(fmt::format("unable to delete {}", id)));
      continue;
    }
    if (task.ok()) {
      client::RemoveFifoDir({task->stdin_path, task->stdout_path, task->stderr_path,
                             task->terminal});
    }
  }
  return exit_code;
}

int RunAttach(const GlobalOptions& global, const TaskArgs& args) {
  ProcessSession session(false);
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto task = client->GetTask(args.id);
  if (!task.ok()) return Fail(task.status());
  session.set_terminal(task->terminal);
  session.StartIo(*client,
                  {task->stdin_path, task->stdout_path, task->stderr_path, task->terminal},
                  args.id, "");
  session.Attach(*client, args.id, "");
  auto exit = client->WaitTask(args.id);
  session.FinishIo(exit.ok());
  if (!exit.ok()) return Fail(exit.status());
  return ExitCodeOf(exit->code);
}

}  // namespace

void AddTasksCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<TaskArgs>();
  auto* group = app.add_subcommand("tasks", "Manage tasks");
  group->alias("t")->alias("task");

  auto* list = group->add_subcommand("list", "List tasks");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the task ids");
  Bind(cli, list, args, RunList);

  auto* start = group->add_subcommand("start", "Start a container's task");
  start->add_option("id", args->id, "Container id")->required();
  start->add_flag("-d,--detach", args->detach, "Leave the task running and return");
  Bind(cli, start, args, RunStart);

  auto* kill = group->add_subcommand("kill", "Signal a task (default: its stop signal)");
  kill->add_option("id", args->id, "Container id")->required();
  kill->add_option("-s,--signal", args->signal, "Signal, as SIGTERM, TERM or 15");
  kill->add_flag("-a,--all", args->all, "Signal every process of the task");
  kill->add_option("--exec-id", args->exec_id, "The exec'd process to signal");
  Bind(cli, kill, args, RunKill);

  auto* exec = group->add_subcommand(
      "exec", "Run another process in a task: tasks exec [flags] ID COMMAND [ARG...]");
  exec->add_option("--exec-id", args->exec_id, "Id of the new process (default: random)");
  exec->add_flag("-t,--tty", args->tty, "Give the process a terminal");
  exec->add_flag("-d,--detach", args->detach, "Leave the process running and return");
  exec->add_option("--cwd", args->cwd, "Working directory of the process");
  exec->fallthrough(false);
  exec->prefix_command();
  exec->callback([&cli, exec, args] {
    // ID and the command follow the flags; not a declared positional, so that a command word
    // that is also a verb ("ps") stays part of the command.
    std::vector<std::string> rest = exec->remaining();
    if (rest.empty()) throw CLI::RequiredError("ID");
    args->id = rest[0];
    args->command.assign(rest.begin() + 1, rest.end());
    cli.action = [&cli, args] {
      ExecArgs exec_args;
      exec_args.id = args->id;
      exec_args.command = args->command;
      exec_args.exec_id = args->exec_id;
      exec_args.cwd = args->cwd;
      exec_args.tty = args->tty;
      exec_args.detach = args->detach;
      return RunExec(cli.global, exec_args);
    };
  });

  auto* pause = group->add_subcommand("pause", "Pause (freeze) a task");
  pause->add_option("id", args->id, "Container id")->required();
  Bind(cli, pause, args, RunPause);

  auto* resume = group->add_subcommand("resume", "Resume a paused task");
  resume->add_option("id", args->id, "Container id")->required();
  Bind(cli, resume, args, RunResume);

  auto* ps = group->add_subcommand("ps", "List the processes of a task");
  ps->add_option("id", args->id, "Container id")->required();
  Bind(cli, ps, args, RunPs);

  auto* metrics = group->add_subcommand("metrics", "Show a task's cgroup figures");
  metrics->alias("metric");
  metrics->add_option("id", args->id, "Container id")->required();
  AddFormatOption(metrics, args->format);
  Bind(cli, metrics, args, RunMetrics);

  auto* remove = group->add_subcommand("delete", "Delete one or more stopped tasks");
  remove->alias("rm")->alias("del")->alias("remove");
  remove->add_option("ids", args->ids, "Container ids")->required();
  remove->add_flag("-f,--force", args->force, "Kill (SIGKILL) a running task first");
  remove->add_option("--exec-id", args->exec_id, "Delete this exec'd process instead");
  Bind(cli, remove, args, RunRemove);

  auto* attach = group->add_subcommand("attach", "Attach to a task's stdio until it exits");
  attach->add_option("id", args->id, "Container id")->required();
  Bind(cli, attach, args, RunAttach);
}

}  // namespace berth::cli
