// berth push (also `berth images push`): an image of berthd to a registry, with progress
// (ctr images push's flags: REMOTE [LOCAL]).
#include <iostream>

#include "berth/cli.h"
#include "berth/human.h"
#include "berth/registry_flags.h"
#include "berth/transfer_display.h"
#include "client/push.h"
#include "images/walk.h"

namespace berth::cli {
namespace {

struct PushArgs {
  RegistryFlags registry;
  std::string platform;
  int max_concurrent_uploads = 3;
  std::string remote;
  std::string local;
};

int RunPush(const GlobalOptions& global, const PushArgs& args) {
  client::PushOptions options;
  auto registry = MakeRegistryOptions(args.registry);
  if (!registry.ok()) return Fail(registry.status());
  options.registry = std::move(*registry);
  if (!args.platform.empty()) {
    auto platform = images::ParsePlatform(args.platform);
    if (!platform.ok()) return Fail(platform.status());
    options.platform = *platform;
  }
  options.max_concurrent_uploads = args.max_concurrent_uploads;
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Client untimed = client->WithTimeout(std::chrono::milliseconds(0));

  const bool show = args.registry.progress != "none";
  TransferDisplay display(std::cout, ProgressOnTerminal(args.registry.progress, std::cout), /*push=*/true,
                          TerminalWidth(std::cout));
  if (show) options.progress = [&display](const client::TransferProgress& p) { display.Update(p); };
  const auto start = std::chrono::steady_clock::now();
  auto pushed = client::Push(untimed, args.remote, args.local, options);
  if (show) display.Finish();
  if (!pushed.ok()) return Fail(pushed.status().Wrap(fmt::format("failed to push {}", args.remote)));
  if (show) {
    std::cout << "pushed " << args.remote << " (" << pushed->target.digest << "): " << HumanBytes(pushed->total)
              << ", " << HumanBytes(pushed->uploaded) << " uploaded in "
              << FormatElapsed(std::chrono::steady_clock::now() - start) << std::endl;
  }
  return 0;
}

void AddPush(CLI::App* parent, Cli& cli) {
  auto args = std::make_shared<PushArgs>();
  auto* cmd = parent->add_subcommand("push", "Push an image to a registry");
  AddRegistryFlags(cmd, args->registry);
  cmd->add_option("--platform", args->platform, "Push only this platform's manifest of an index");
  cmd->add_option("--max-concurrent-uploaded-layers", args->max_concurrent_uploads, "Blobs uploaded at the same time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("remote", args->remote, "Reference to push to, e.g. 127.0.0.1:5000/busybox:2")->required();
  cmd->add_option("local", args->local, "Image to push (default: the remote reference)");
  Bind(cli, cmd, args, RunPush);
}

}  // namespace

void AddPushCommand(CLI::App& app, Cli& cli, CLI::App* images) {
  AddPush(&app, cli);
  AddPush(images, cli);
}

}  // namespace berth::cli
