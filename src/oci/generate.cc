#include "oci/generate.h"

#include "oci/env.h"
#include "oci/user.h"

namespace berth::oci {

Result<Spec> GenerateSpec(const SpecOptions& o) {
  Spec s = DefaultUnixSpec(o.namespace_name, o.id);
  auto devices = DefaultUnixDeviceRules();
  s.linux.resources->devices.insert(s.linux.resources->devices.end(), devices.begin(),
                                    devices.end());
  if (!o.env.empty()) s.process.env = ReplaceOrAppendEnv(s.process.env, o.env);
  s.mounts.insert(s.mounts.end(), o.mounts.begin(), o.mounts.end());

  if (o.image) {
    const ImageConfig& c = *o.image;
    std::vector<std::string> defaults = c.env;
    if (defaults.empty()) defaults = {kDefaultPathEnv};
    s.process.env = ReplaceOrAppendEnv(defaults, s.process.env);
    s.process.args = c.entrypoint;
    s.process.args.insert(s.process.args.end(), c.cmd.begin(), c.cmd.end());
    s.process.cwd = c.working_dir.empty() ? "/" : c.working_dir;
    std::string group_user = "root";
    if (!c.user.empty()) {
      BERTH_ASSIGN_OR_RETURN(s.process.user, ResolveUser(c.user, o.rootfs));
      group_user = std::to_string(s.process.user.uid);
    }
    BERTH_ASSIGN_OR_RETURN(s.process.user.additional_gids,
                           AdditionalGids(group_user, s.process.user.gid, o.rootfs));
  }
  if (!o.args.empty()) s.process.args = o.args;
  if (!o.cwd.empty()) s.process.cwd = o.cwd;
  if (o.terminal) {
    s.process.terminal = true;
    s.process.env.push_back("TERM=xterm");
  }
  if (!o.user.empty()) {
    BERTH_ASSIGN_OR_RETURN(s.process.user, ResolveUser(o.user, o.rootfs));
  }
  if (!o.hostname.empty()) s.hostname = o.hostname;
  if (o.cpu_shares && *o.cpu_shares > 0) s.linux.resources->cpu_shares = *o.cpu_shares;
  if (o.memory_limit && *o.memory_limit > 0) {
    s.linux.resources->memory_limit = static_cast<int64_t>(*o.memory_limit);
  }
  if (o.readonly_rootfs) s.root.readonly = true;
  for (const auto& [k, v] : o.annotations) s.annotations[k] = v;
  if (s.process.args.empty()) {
    return InvalidArgument("no command given and the image has no entrypoint or cmd");
  }
  return s;
}

}  // namespace berth::oci
