// berth images unpack: an image's layers into a snapshotter, as pull and import do (containerd's
// image.Unpack). Layers already unpacked are reused.
#include <iostream>
#include <memory>

#include "berth/cli.h"
#include "client/unpack.h"
#include "images/walk.h"

namespace berth::cli {
namespace {

struct UnpackArgs {
  std::string ref;
  std::string snapshotter = kDefaultSnapshotter;
  std::string platform;  // "" for the host's
  bool quiet = false;
};

int RunUnpack(const GlobalOptions& global, const UnpackArgs& args) {
  client::UnpackOptions options;
  options.snapshotter = args.snapshotter;
  if (!args.platform.empty()) {
    auto parsed = images::ParsePlatform(args.platform);
    if (!parsed.ok())
      return Fail(parsed.status().Wrap(fmt::format("invalid platform {:?}", args.platform)));
    options.platform = *parsed;
  }
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Client untimed = client->WithTimeout(std::chrono::milliseconds(0));
  auto image = untimed.GetImage(args.ref);
  if (!image.ok()) return Fail(image.status().Wrap(fmt::format("image {:?}", args.ref)));
  if (!args.quiet)
    std::cout << "unpacking " << image->name << " (" << image->target.digest << ")..."
              << std::flush;
  auto chain = client::UnpackImage(untimed, *image, options);
  if (!chain.ok()) {
    if (!args.quiet) std::cout << std::endl;
    return Fail(chain.status());
  }
  if (args.quiet) {
    std::cout << *chain << std::endl;
  } else {
    std::cout << "done" << std::endl;
  }
  return 0;
}

}  // namespace

void AddImageUnpackCommand(CLI::App* images, Cli& cli) {
  auto args = std::make_shared<UnpackArgs>();
  auto* unpack = images->add_subcommand("unpack", "Unpack an image's layers into a snapshotter");
  unpack->add_option("ref", args->ref, "Image ref")->required();
  unpack->add_option("--snapshotter", args->snapshotter, "Snapshotter to unpack into")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  unpack->add_option("--platform", args->platform,
                     "Platform of the image, os/arch[/variant] (default: this host's)");
  unpack->add_flag("-q,--quiet", args->quiet,
                   "Print only the chain id of the unpacked root filesystem");
  Bind(cli, unpack, args, RunUnpack);
}

}  // namespace berth::cli
