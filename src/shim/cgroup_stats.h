// A container's cgroup and its statistics in containerd's metrics types
// (io.containerd.cgroups.v1.Metrics / io.containerd.cgroups.v2.Metrics), read from the files
// the kernel exposes. The cgroup is found from /proc/<pid>/cgroup of the init process. A host
// whose /sys/fs/cgroup is not cgroup2 (v1 or hybrid) is treated as v1, as containerd does.
// `root` is a parameter so that tests can use a fake tree.
#pragma once

#include <map>
#include <string>

#include "common/cgroups.h"
#include "common/status.h"
#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace berth::shim {

using cgroups::kCgroupRoot;
using cgroups::IsUnifiedCgroup;

struct CgroupPaths {
  bool unified = false;
  std::map<std::string, std::string> v1;  // controller ("memory", "cpuacct", ...) -> its directory
  std::string v2;                         // the cgroup2 directory (unified mode)
  bool empty() const { return unified ? v2.empty() : v1.empty(); }
};

// Parses /proc/<pid>/cgroup text into directories under `root`.
CgroupPaths ParseProcCgroup(const std::string& text, const std::string& root, bool unified);
Result<CgroupPaths> CgroupOfPid(int pid, const std::string& root = kCgroupRoot);

Result<io::containerd::cgroups::v1::Metrics> StatV1(const CgroupPaths& paths);
Result<io::containerd::cgroups::v2::Metrics> StatV2(const CgroupPaths& paths);

}  // namespace berth::shim
