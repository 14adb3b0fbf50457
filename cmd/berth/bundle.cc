// berth bundle create IMAGE DIR [CMD [ARG...]]: an OCI runtime bundle (DIR/config.json and
// DIR/rootfs) from an image in berthd's store, for runc, crun or the REST API v1's
// `POST /containers/{id} {"bundlePath": DIR}` (containerd 0.0.x ran containers from bundles).
#include <iostream>

#include "berth/cli.h"
#include "client/bundle_write.h"

namespace berth::cli {
namespace {

struct BundleArgs {
  std::string image;
  std::string dir;
  std::vector<std::string> command;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;
  bool tty = false;
  std::string snapshotter = kDefaultSnapshotter;
};

int RunBundleCreate(const GlobalOptions& global, const BundleArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::BundleOptions o;
  o.image = args.image;
  o.snapshotter = args.snapshotter;
  o.spec.namespace_name = global.namespace_name;
  o.spec.id = std::filesystem::path(args.dir).filename().string();
  o.spec.args = args.command;
  o.spec.env = args.env;
  o.spec.cwd = args.cwd;
  o.spec.user = args.user;
  o.spec.terminal = args.tty;
  std::filesystem::path dir = std::filesystem::absolute(args.dir).lexically_normal();
  if (Status st = client::WriteBundle(*client, dir, o); !st.ok()) return Fail(st);
  std::cout << dir.string() << std::endl;
  return 0;
}

}  // namespace

void AddBundleCommand(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("bundle", "Make OCI runtime bundles (config.json + rootfs) from images");
  group->require_subcommand(1);
  auto args = std::make_shared<BundleArgs>();
  auto* create = group->add_subcommand(
      "create", "Write an image's root filesystem and its runtime spec into DIR, for runc or the REST API");
  create->add_option("image", args->image, "Image name (pulled and unpacked)")->required();
  create->add_option("dir", args->dir, "Bundle directory (absent or empty)")->required();
  create->add_option("command", args->command, "Command and arguments (default: the image's)");
  create->add_option("--env", args->env, "Environment variable K=V (repeatable)");
  create->add_option("--cwd", args->cwd, "Working directory of the process");
  create->add_option("-u,--user", args->user, "User (name, uid or uid:gid) to run as");
  create->add_flag("-t,--tty", args->tty, "Give the process a terminal");
  create->add_option("--snapshotter", args->snapshotter, "Snapshotter the image is unpacked in")
      ->capture_default_str();
  Bind(cli, create, args, RunBundleCreate);
}

}  // namespace berth::cli
