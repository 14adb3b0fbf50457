// A container's runtime spec from its image config and the options of `berth run`, applied in
// the order ctr's NewContainer applies containerd's SpecOpts: the default spec, the default
// device rules, env (file, then flags), extra mounts, the image config (env under the user's,
// entrypoint + cmd, working dir, user and supplementary groups), then args, cwd, tty, user,
// hostname, cpu shares, memory limit, read-only root and annotations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "oci/image_config.h"
#include "oci/spec.h"

namespace berth::oci {

// ctr run's default --cpu-shares.
inline constexpr uint64_t kDefaultCpuShares = 1024;

struct SpecOptions {
  std::string namespace_name;  // for the cgroups path "/<namespace>/<id>"
  std::string id;
  std::optional<ImageConfig> image;      // none: a spec without image defaults
  std::vector<std::string> env;          // "K=V" (or "K" to unset), env file lines first
  std::vector<Mount> mounts;             // appended after the default mounts
  std::vector<std::string> args;         // non-empty: replaces the image's entrypoint + cmd
  std::string cwd;                       // non-empty: replaces the image's working dir
  bool terminal = false;                 // process.terminal and TERM=xterm
  std::string user;                      // non-empty: WithUser after the image's user
  std::string hostname;
  std::optional<uint64_t> cpu_shares = kDefaultCpuShares;
  std::optional<uint64_t> memory_limit;  // bytes
  bool readonly_rootfs = false;
  std::map<std::string, std::string> annotations;  // ctr sets its --label values here
  // The container's root filesystem (mounted), to resolve users and groups; none: numeric ids
  // only.
  std::optional<std::filesystem::path> rootfs;
};

Result<Spec> GenerateSpec(const SpecOptions& options);

}  // namespace berth::oci
