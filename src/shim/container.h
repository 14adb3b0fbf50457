// A task's container as the shim holds it: bundle, rootfs, runtime, init and exec processes,
// cgroup and OOM watch.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "shim/cgroup_stats.h"
#include "shim/oci_runtime.h"
#include "shim/oom_watcher.h"
#include "shim/process.h"
#include "shim/runtime_options.h"

namespace berth::shim {

struct Container {
  std::string id;
  std::string bundle;
  std::string rootfs;  // <bundle>/rootfs when the shim mounted it, else ""
  RuncOptions options;
  std::unique_ptr<OciRuntime> runtime;
  Process init;
  std::map<std::string, std::unique_ptr<Process>> execs;
  CgroupPaths cgroup;
  std::unique_ptr<OomWatcher> oom;
  // Set when the task was created from a checkpoint: Start restores it instead of starting.
  std::optional<CriuOptions> restore;
  // The spec points runc at <bundle>/criu.conf (criu_stdio.h): stdio can cross a checkpoint.
  bool criu_config = false;

  // The init process for "", else the exec; NotFound for an unknown exec id.
  Result<Process*> Find(const std::string& exec_id);
  // The process (init or exec) with this pid, or nullptr.
  Process* ByPid(int pid);
  // The public id of a process: the container id for init, else the exec id.
  const std::string& IdOf(const Process& p) const { return p.is_init() ? id : p.id; }
};

}  // namespace berth::shim
