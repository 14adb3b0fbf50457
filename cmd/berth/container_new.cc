#include "berth/container_new.h"

#include "client/container_new.h"
#include "oci/env.h"
#include "oci/mount_flag.h"

namespace berth::cli {
namespace {

// "k=v" flags as a map ("k" alone: empty value), as ctr's LabelArgs.
std::map<std::string, std::string> LabelArgs(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    out[a.substr(0, eq)] = eq == std::string::npos ? "" : a.substr(eq + 1);
  }
  return out;
}

}  // namespace

void AddContainerFlags(CLI::App* cmd, ContainerFlags& f) {
  // IMAGE, ID and the command are taken from what follows the flags (see run.cc): declared as
  // positionals, a command word that is also a berth verb ("ps", "events") would be taken for one.
  // One value per occurrence, so that `--env A=1 IMAGE ID` leaves IMAGE a positional.
  cmd->add_option("--env", f.env, "Environment variable, K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--env-file", f.env_file, "File of environment variables, one K=V a line");
  cmd->add_option("--cwd", f.cwd, "Working directory of the process");
  cmd->add_option("-u,--user", f.user, "User, as uid[:gid] or user[:group] of the image");
  cmd->add_option("--mount", f.mounts,
                  "Extra mount, e.g. type=bind,src=/x,dst=/y,options=rbind:ro (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--runtime", f.runtime, "Runtime name")->capture_default_str();
  cmd->add_option("--runc-binary", f.runc_binary, "runc-compatible binary for the runc shim");
  cmd->add_option("--snapshotter", f.snapshotter, "Snapshotter the image is unpacked in")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  cmd->add_option("--memory-limit", f.memory_limit, "Memory limit in bytes (0: none)");
  cmd->add_option("--label", f.labels, "Container label, K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--hostname", f.hostname, "Hostname of the container");
  cmd->add_flag("-t,--tty", f.tty, "Give the process a terminal");
  cmd->add_flag("--read-only", f.read_only, "Mount the root filesystem read-only");
}

Result<client::Container> NewContainer(client::Client& client, const ContainerFlags& f) {
  client::NewContainerOptions o;
  if (!f.platform.empty()) {
    auto platform = images::ParsePlatform(f.platform);
    if (!platform.ok()) return platform.status().Wrap(fmt::format("invalid platform {:?}", f.platform));
    o.platform = *platform;
  }
  o.id = f.id;
  o.image = f.image;
  if (!f.env_file.empty()) {
    BERTH_ASSIGN_OR_RETURN(o.spec.env, oci::ReadEnvFile(f.env_file));
  }
  o.spec.env.insert(o.spec.env.end(), f.env.begin(), f.env.end());
  for (const auto& m : f.mounts) {
    BERTH_ASSIGN_OR_RETURN(auto mount, oci::ParseMountFlag(m));
    o.spec.mounts.push_back(std::move(mount));
  }
  o.spec.args = f.command;
  o.spec.cwd = f.cwd;
  o.spec.terminal = f.tty;
  o.spec.user = f.user;
  o.spec.hostname = f.hostname;
  if (f.memory_limit > 0) o.spec.memory_limit = f.memory_limit;
  o.spec.readonly_rootfs = f.read_only;
  o.labels = LabelArgs(f.labels);
  o.spec.annotations = o.labels;
  o.runtime = f.runtime;
  o.runc_binary = f.runc_binary;
  o.snapshotter = f.snapshotter;
  return client::NewContainer(client, std::move(o));
}

}  // namespace berth::cli
