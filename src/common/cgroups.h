// Joining a cgroup by path, as containerd does for the runc option ShimCgroup (the serving shim)
// and for the config's [cgroup] path (the daemon itself): every v1 hierarchy where the path
// exists, or the one cgroup2 path on a unified host. `root` is a parameter so that tests can
// use a fake tree.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace berth::cgroups {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// Whether `root` is a cgroup2 mount (a unified host); v1 and hybrid hosts are not.
bool IsUnifiedCgroup(const std::string& root = kCgroupRoot);

// Writes `pid` into <hierarchy>/<path>/cgroup.procs. NotFound naming the path when no hierarchy
// has it; the first write error otherwise.
Status JoinCgroup(pid_t pid, const std::string& path, const std::string& root = kCgroupRoot);

}  // namespace berth::cgroups
