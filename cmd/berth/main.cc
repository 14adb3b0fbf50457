// berth: the command line client of berthd, modelled on containerd's ctr.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "berth/cli.h"
#include "common/logging.h"

namespace {

// BERTH_NAMESPACE, else ctr's CONTAINERD_NAMESPACE, else "default".
std::string DefaultNamespace() {
  for (const char* env : {"BERTH_NAMESPACE", "CONTAINERD_NAMESPACE"}) {
    const char* value = std::getenv(env);
    if (value != nullptr && *value != '\0') return value;
  }
  return "default";
}

}  // namespace

int main(int argc, char** argv) {
  using berth::cli::kExitUsage;
  berth::cli::Cli cli;
  cli.global.namespace_name = DefaultNamespace();

  CLI::App app("berth: command line client for berthd, speaking containerd's API", "berth");
  app.set_version_flag("-v,--version",
                       std::string("berth ") + BERTH_VERSION + " " + BERTH_REVISION);
  // Global options are accepted after the command too.
  app.fallthrough();
  app.add_option("-a,--address", cli.global.address, "Address of berthd's socket")
      ->envname("BERTH_ADDRESS")
      ->capture_default_str();
  app.add_option("-n,--namespace", cli.global.namespace_name,
                 "Namespace to use (env BERTH_NAMESPACE, then CONTAINERD_NAMESPACE)")
      ->capture_default_str();
  app.add_option("--timeout", cli.global.timeout,
                 "Deadline of each call to berthd, e.g. 30s, 1m, 0 for none")
      ->capture_default_str();
  app.add_option("--connect-timeout", cli.global.connect_timeout,
                 "How long to wait for berthd to accept the connection (0: do not wait)")
      ->capture_default_str();
  app.add_flag("--debug", cli.global.debug, "Log debug output to stderr");

  berth::cli::AddVersionCommand(app, cli);
  berth::cli::AddNamespacesCommand(app, cli);
  berth::cli::AddPluginsCommand(app, cli);
  berth::cli::AddEventsCommand(app, cli);
  berth::cli::AddContentCommand(app, cli);
  berth::cli::AddImagesCommand(app, cli);
  berth::cli::AddPullCommand(app, cli, app.get_subcommand("images"));
  berth::cli::AddPushCommand(app, cli, app.get_subcommand("images"));
  berth::cli::AddLeasesCommand(app, cli);
  berth::cli::AddContainersCommand(app, cli);
  berth::cli::AddSnapshotsCommand(app, cli);
  berth::cli::AddRunCommand(app, cli);
  berth::cli::AddTasksCommand(app, cli);
  berth::cli::AddBundleCommand(app, cli);
  berth::cli::AddMetricsCommand(app, cli);
  berth::cli::AddBenchCommand(app, cli);
  berth::cli::AddCheckpointCommands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    berth::cli::PrintError(e.what());
    return kExitUsage;
  }

  if (auto status = berth::log::Init(cli.global.debug ? "debug" : "warn"); !status.ok()) {
    return berth::cli::Fail(status);
  }
  if (auto status = berth::cli::ParseGlobalOptions(cli.global); !status.ok()) {
    berth::cli::PrintError(status.message());
    return kExitUsage;
  }

  if (!cli.action) {
    // A command group without its verb (or nothing at all): show what there is, as ctr does.
    CLI::App* deepest = &app;
    while (!deepest->get_subcommands().empty()) deepest = deepest->get_subcommands().front();
    std::cout << deepest->help();
    return 0;
  }
  return cli.action();
}
