// berth pull (also `berth images pull`): an image from a registry into berthd, with progress,
// unpacked for the platform (ctr images pull's flags).
#include <iostream>

#include "berth/cli.h"
#include "berth/registry_flags.h"

namespace berth::cli {
namespace {

struct PullArgs {
  PullFlags flags;
  std::string ref;
};

int RunPull(const GlobalOptions& global, const PullArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  // Large blobs take what they take.
  client::Client untimed = client->WithTimeout(std::chrono::milliseconds(0));
  auto pulled = PullWithProgress(untimed, args.ref, args.flags, std::cout);
  if (!pulled.ok()) return Fail(pulled.status().Wrap(fmt::format("failed to pull {}", args.ref)));
  if (args.flags.print_chain_id && !pulled->chain_id.empty()) {
    std::cout << "image chain ID: " << pulled->chain_id << std::endl;
  }
  return 0;
}

void AddPull(CLI::App* parent, Cli& cli) {
  auto args = std::make_shared<PullArgs>();
  auto* cmd = parent->add_subcommand("pull", "Pull an image from a registry and unpack it");
  AddRegistryFlags(cmd, args->flags.registry);
  cmd->add_option("--snapshotter", args->flags.snapshotter, "Snapshotter to unpack into")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  cmd->add_option("--platform", args->flags.platform, "Platform to pull, os/arch[/variant] (default: this host's)");
  cmd->add_flag("--all-platforms", args->flags.all_platforms, "Pull the content of every platform");
  cmd->add_flag("--no-unpack", args->flags.no_unpack, "Fetch only; do not unpack");
  cmd->add_flag("--print-chainid", args->flags.print_chain_id, "Print the image's chain ID");
  cmd->add_option("--max-concurrent-downloads", args->flags.max_concurrent_downloads,
                  "Blobs downloaded at the same time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--label", args->flags.labels, "Image label, K=V (repeatable)")->allow_extra_args(false);
  cmd->add_option("ref", args->ref, "Image reference, e.g. 127.0.0.1:5000/busybox:1")->required();
  Bind(cli, cmd, args, RunPull);
}

}  // namespace

void AddPullCommand(CLI::App& app, Cli& cli, CLI::App* images) {
  AddPull(&app, cli);
  AddPull(images, cli);
}

}  // namespace berth::cli
