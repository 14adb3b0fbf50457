// What the `berth` commands share: the global options, connecting, and error reporting.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "client/client.h"
#include "common/labels.h"
#include "common/status.h"

namespace berth::cli {

// Exit codes: 1 when a command fails, 2 for usage errors.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string address = client::kDefaultAddress;
  std::string namespace_name = "default";
  std::string timeout = "30s";
  std::string connect_timeout = "5s";
  bool debug = false;

  // Parsed from the strings above by ParseGlobalOptions.
  std::chrono::nanoseconds timeout_value{};
  std::chrono::nanoseconds connect_timeout_value{};
};

// The parsed command line: the global options and what the chosen command runs.
struct Cli {
  GlobalOptions global;
  // Set by the callback of the command given; returns the exit code.
  std::function<int()> action;
};

// Adds each command group to `app`.
void AddVersionCommand(CLI::App& app, Cli& cli);
void AddNamespacesCommand(CLI::App& app, Cli& cli);
void AddPluginsCommand(CLI::App& app, Cli& cli);
void AddEventsCommand(CLI::App& app, Cli& cli);
void AddContentCommand(CLI::App& app, Cli& cli);
void AddImagesCommand(CLI::App& app, Cli& cli);
void AddLeasesCommand(CLI::App& app, Cli& cli);
void AddContainersCommand(CLI::App& app, Cli& cli);
void AddSnapshotsCommand(CLI::App& app, Cli& cli);
void AddRunCommand(CLI::App& app, Cli& cli);
void AddTasksCommand(CLI::App& app, Cli& cli);
void AddBundleCommand(CLI::App& app, Cli& cli);
void AddMetricsCommand(CLI::App& app, Cli& cli);
// `bench`: N concurrent starts and teardowns of an image, timed (the seed's benchmark).
void AddBenchCommand(CLI::App& app, Cli& cli);
// `checkpoint`, `restore` and the seed's `checkpoints ls/create/rm`.
void AddCheckpointCommands(CLI::App& app, Cli& cli);
// `pull` and `push`, added at the top and to the `images` group (`images`).
void AddPullCommand(CLI::App& app, Cli& cli, CLI::App* images);
void AddPushCommand(CLI::App& app, Cli& cli, CLI::App* images);
// `containers create`, added to the `containers` group.
void AddContainerCreateCommand(CLI::App* containers, Cli& cli);
// The seed's `containers` workflows (list, start ID BUNDLE, kill, exec, stats) in the group.
void AddSeedContainerCommands(CLI::App* containers, Cli& cli);
// `images mount` and `images unmount`, added to the `images` group.
void AddImageMountCommands(CLI::App* images, Cli& cli);
// `images import/export` and `images unpack`, added to the `images` group.
void AddImageArchiveCommands(CLI::App* images, Cli& cli);
void AddImageUnpackCommand(CLI::App* images, Cli& cli);

// The snapshotter `--snapshotter` names when not given (containerd's default).
inline constexpr const char* kDefaultSnapshotter = "overlayfs";

// Makes `run` (with the parsed global options and the group's arguments) the action of
// `cmd` when it is the command given.
template <typename Args>
void Bind(Cli& cli, CLI::App* cmd, const std::shared_ptr<Args>& args,
          int (*run)(const GlobalOptions&, const Args&)) {
  cmd->callback(
      [&cli, args, run] { cli.action = [&cli, args, run] { return run(cli.global, *args); }; });
}

// Fills the parsed values of `options`.
Status ParseGlobalOptions(GlobalOptions& options);

// Connects as the global options say; on failure prints why (with a hint when the daemon
// does not answer) and returns nullptr.
std::unique_ptr<client::Client> Dial(const GlobalOptions& options);

// Prints `berth: <message>` on stderr.
void PrintError(std::string_view message);
// Prints the Status as `berth: <message>: <kind>` and returns kExitFailure.
int Fail(const Status& status);

// `--format` values.
inline constexpr const char* kFormatTable = "table";
inline constexpr const char* kFormatJson = "json";

// Adds `--format table|json` bound to `format`.
void AddFormatOption(CLI::App* cmd, std::string& format);

// Prints labels one `key=value` per line, sorted by key.
void PrintLabelLines(const labels::Labels& labels);

}  // namespace berth::cli
