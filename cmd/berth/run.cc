// berth run: a container from an unpacked image, its task run attached to berth's stdio (or
// left running with -d), as `ctr run`. The process's exit code is berth's. Unlike ctr (and like
// docker), an image that is not there is pulled first (--pull missing|always|never), its
// progress on stderr so that stdout is the container's.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include "berth/cli.h"
#include "berth/container_new.h"
#include "berth/process_session.h"
#include "berth/registry_flags.h"
#include "berth/task_run.h"
#include "client/temp_lease.h"
#include "common/logging.h"
#include "remotes/reference.h"

namespace berth::cli {
namespace {

struct RunArgs {
  ContainerFlags flags;
  bool rm = false;
  bool detach = false;
  std::string pull = "missing";
  PullFlags pull_flags;
  std::string registry_user;
};

// The name of the image to run when the store has it and the policy allows it; nullopt when
// it is to be pulled.
Result<std::optional<std::string>> ImageInStore(client::Client& client, const RunArgs& args) {
  using Name = std::optional<std::string>;
  if (args.pull == "never") return Name(args.flags.image);
  if (args.pull == "always") return Name();
  auto image = client.GetImage(args.flags.image);
  if (image.ok()) return Name(args.flags.image);
  if (!image.status().Is(Errc::kNotFound)) return image.status();
  // "busybox" names docker.io/library/busybox:latest, as the pull would store it.
  auto ref = remotes::ParseReference(args.flags.image);
  if (!ref.ok()) return NotFound("image {} not found", args.flags.image);
  if (ref->String() != args.flags.image) {
    auto normalized = client.GetImage(ref->String());
    if (normalized.ok()) return Name(ref->String());
  }
  std::cerr << "image " << args.flags.image << " not found; pulling it" << std::endl;
  return Name();
}

Result<std::string> PullImage(client::Client& client, const RunArgs& args) {
  PullFlags flags = args.pull_flags;
  flags.registry.user = args.registry_user;
  flags.snapshotter = args.flags.snapshotter;
  flags.platform = args.flags.platform;
  BERTH_ASSIGN_OR_RETURN(client::PullResult pulled, PullWithProgress(client, args.flags.image, flags, std::cerr));
  return pulled.image.name;
}

// The name of the image to run, pulled first when the policy says so. With a session (run
// attached, whose signals are blocked for the container's sake), an interrupt during the pull
// ends berth at once: the pull cannot be stopped midway, so the lease it runs under is deleted
// (what it fetched is then collectable; nothing else exists yet) and berth exits as a job
// killed by the signal would for a shell (128 + signal).
Result<std::string> ImageToRun(client::Client& client, const RunArgs& args, ProcessSession* session) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> present, ImageInStore(client, args));
  if (present) return *present;
  if (session == nullptr) return PullImage(client, args);
  BERTH_ASSIGN_OR_RETURN(client::TempLease lease, client::TempLease::Acquire(client));
  client::Client& leased = lease.client();
  session->set_interrupt_handler([&leased, lease_id = leased.lease(), image = args.flags.image](int sig) {
    std::cerr << (::isatty(STDERR_FILENO) ? "\n" : "") << "berth: interrupted (SIG" << ::sigabbrev_np(sig)
              << "): the pull of " << image << " was canceled" << std::endl;
    if (Status st = leased.DeleteLease(lease_id); !st.ok()) {
      log::Warn("deleting the pull's lease", {{"lease", lease_id}, {"error", st.ToString()}});
    }
    ::_exit(128 + sig);
  });
  auto pulled = PullImage(leased, args);
  session->set_interrupt_handler(nullptr);  // before the lease goes: the handler uses it
  return pulled;
}

// Adds --pull and the registry flags (long names only: -u and -k are the process's here).
void AddPullOnRunFlags(CLI::App* cmd, RunArgs& args) {
  cmd->add_option("--pull", args.pull, "Pull the image: missing (default), always or never")
      ->check(CLI::IsMember({"missing", "always", "never"}));
  cmd->add_flag("--plain-http", args.pull_flags.registry.plain_http, "Pull over plain HTTP");
  cmd->add_flag("--skip-verify", args.pull_flags.registry.skip_verify, "Skip TLS verification when pulling");
  cmd->add_option("--tlscacert", args.pull_flags.registry.tls_ca_cert, "CA bundle for the registry");
  cmd->add_option("--registry-user", args.registry_user, "Registry USER[:PASSWORD] for the pull");
  cmd->add_option("--platform", args.flags.platform,
                  "Platform of the image to pull and run, os/arch[/variant] (default: this host's)");
}

int RunRun(const GlobalOptions& global, const RunArgs& args) {
  if (args.rm && args.detach) {
    PrintError("flags --detach and --rm cannot be specified together");
    return kExitUsage;
  }
  std::optional<ProcessSession> session;
  if (!args.detach) session.emplace(args.flags.tty);  // before the client's threads
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto image = ImageToRun(*client, args, session ? &*session : nullptr);
  if (!image.ok()) return Fail(image.status());
  ContainerFlags flags = args.flags;
  flags.image = *image;
  auto container = NewContainer(*client, flags);
  if (!container.ok()) return Fail(container.status());
  auto code = RunTask(*client, *container, {args.flags.tty, args.detach},
                      session ? &*session : nullptr);
  // Interrupted before its process started, the container never ran: it goes, as with --rm.
  const int early = !code.ok() && session ? session->early_signal() : 0;
  if (args.rm || early != 0) {
    if (Status st = DeleteContainerAndSnapshot(*client, *container); !st.ok()) Fail(st);
  }
  if (early != 0) {
    PrintError(fmt::format("interrupted (SIG{}) before the container started", ::sigabbrev_np(early)));
    return 128 + early;
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
  auto image = ImageToRun(*client, args, nullptr);
  if (!image.ok()) return Fail(image.status());
  ContainerFlags flags = args.flags;
  flags.image = *image;
  auto container = NewContainer(*client, flags);
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
  AddPullOnRunFlags(run, *args);
  BindWithCommand(cli, run, args, RunRun);
}

void AddContainerCreateCommand(CLI::App* containers, Cli& cli) {
  auto args = std::make_shared<RunArgs>();
  auto* create = containers->add_subcommand(
      "create", "Create a container: containers create [flags] IMAGE ID [COMMAND] [ARG...]");
  AddContainerFlags(create, args->flags);
  AddPullOnRunFlags(create, *args);
  BindWithCommand(cli, create, args, RunCreate);
}

}  // namespace berth::cli
