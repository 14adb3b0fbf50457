// berth run: a container from an unpacked image, its task run attached to berth's stdio (or
// left running with -d), as `ctr run`. The process's exit code is berth's.
#include <memory>
#include <optional>

#include "berth/cli.h"
#include "berth/container_new.h"
#include "berth/process_session.h"
#include "berth/task_run.h"

namespace berth::cli {
namespace {

struct RunArgs {
  ContainerFlags flags;
  bool rm = false;
  bool detach = false;
};

int RunRun(const GlobalOptions& global, const RunArgs& args) {
  if (args.rm && args.detach) {
    PrintError("flags --detach and --rm cannot be specified together");
    return kExitUsage;
  }
  std::optional<ProcessSession> session;
  if (!args.detach) session.emplace(args.flags.tty);  // before the client's threads
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto container = NewContainer(*client, global, args.flags);
  if (!container.ok()) return Fail(container.status());
  auto code = RunTask(*client, *container, {args.flags.tty, args.detach},
                      session ? &*session : nullptr);
  if (args.rm) {
    if (Status st = DeleteContainerAndSnapshot(*client, *container); !st.ok()) Fail(st);
  }
  if (!code.ok()) return Fail(code.status());
  return *code;
}

// Makes `cmd` take IMAGE ID and then the container's command verbatim (its dashes included).
template <typename Args>
void BindWithCommand(Cli& cli, CLI::App* cmd, const std::shared_ptr<Args>& args,
                     int (*run)(const GlobalOptions&, const Args&)) {
  cmd->fallthrough(false);
  cmd->prefix_command();
  cmd->callback([&cli, cmd, args, run] {
    std::vector<std::string> rest = cmd->remaining();
    if (rest.empty()) throw CLI::RequiredError("IMAGE");
    if (rest.size() < 2) throw CLI::RequiredError("ID");
    args->flags.image = rest[0];
    args->flags.id = rest[1];
    args->flags.command.assign(rest.begin() + 2, rest.end());
    cli.action = [&cli, args, run] { return run(cli.global, *args); };
  });
}

int RunCreate(const GlobalOptions& global, const RunArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto container = NewContainer(*client, global, args.flags);
  if (!container.ok()) return Fail(container.status());
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand(
      "run", "Run a container: berth run [flags] IMAGE ID [COMMAND] [ARG...]");
  AddContainerFlags(run, args->flags);
  run->add_flag("--rm", args->rm, "Remove the container (and its snapshot) when it exits");
  run->add_flag("-d,--detach", args->detach, "Leave the task running and return");
  BindWithCommand(cli, run, args, RunRun);
}

void AddContainerCreateCommand(CLI::App* containers, Cli& cli) {
  auto args = std::make_shared<RunArgs>();
  auto* create = containers->add_subcommand(
      "create", "Create a container: containers create [flags] IMAGE ID [COMMAND] [ARG...]");
  AddContainerFlags(create, args->flags);
  BindWithCommand(cli, create, args, RunCreate);
}

}  // namespace berth::cli
