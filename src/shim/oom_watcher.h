// Out-of-memory notifications for a container's cgroup, on the event loop.
//  - cgroup v1: an eventfd registered on memory.oom_control through cgroup.event_control;
//    it also fires when the cgroup is removed, which is told apart by the directory being gone.
//  - cgroup v2: memory.events polled for EPOLLPRI; each increase of oom_kill is an OOM.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "shim/cgroup_stats.h"
#include "common/unique_fd.h"
#include "ttrpc/event_loop.h"

namespace berth::shim {

// Not thread-safe: berth-shim's one loop thread only.
class OomWatcher {
 public:
  OomWatcher(ttrpc::EventLoop& loop, std::function<void()> on_oom)
      : loop_(loop), on_oom_(std::move(on_oom)) {}
  ~OomWatcher() { Stop(); }
  OomWatcher(const OomWatcher&) = delete;
  OomWatcher& operator=(const OomWatcher&) = delete;

  Status Start(const CgroupPaths& cgroup);
  void Stop();

 private:
  void OnV1Event();
  void OnV2Event();
  // oom_kill of the open memory.events (cgroup v2); 0 when it cannot be read.
  uint64_t ReadOomKills() const;
  ttrpc::EventLoop& loop_;
  std::function<void()> on_oom_;
  std::string dir_;
  UniqueFd watch_fd_, control_fd_;
  uint64_t last_oom_kill_ = 0;
  bool added_ = false;
};

// oom_kill from memory.events text.
uint64_t OomKillCount(const std::string& memory_events);

}  // namespace berth::shim
