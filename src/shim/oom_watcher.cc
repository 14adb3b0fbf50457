#include "shim/oom_watcher.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/files.h"
#include "common/logging.h"

namespace berth::shim {

uint64_t OomKillCount(const std::string& text) {
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == "oom_kill") return v;
  }
  return 0;
}

Status OomWatcher::Start(const CgroupPaths& cg) {
  Stop();
  if (cg.unified) {
    dir_ = cg.v2;
    BERTH_ASSIGN_OR_RETURN(watch_fd_, files::Open(dir_ + "/memory.events", O_RDONLY));
    last_oom_kill_ = ReadOomKills();
    BERTH_RETURN_IF_ERROR(loop_.Add(watch_fd_.get(), EPOLLPRI, [this](uint32_t) { OnV2Event(); }));
    added_ = true;
    return Status::Ok();
  }
  auto it = cg.v1.find("memory");
  if (it == cg.v1.end()) return NotFound("no memory cgroup");
  dir_ = it->second;
  watch_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!watch_fd_) return ErrnoStatus("eventfd", errno);
  BERTH_ASSIGN_OR_RETURN(control_fd_, files::Open(dir_ + "/memory.oom_control", O_RDONLY));
  {
    const std::string event_control = dir_ + "/cgroup.event_control";
    BERTH_ASSIGN_OR_RETURN(UniqueFd ec, files::Open(event_control, O_WRONLY));
    BERTH_RETURN_IF_ERROR(files::WriteAll(
        ec.get(), std::to_string(watch_fd_.get()) + " " + std::to_string(control_fd_.get()), event_control));
  }
  BERTH_RETURN_IF_ERROR(loop_.Add(watch_fd_.get(), EPOLLIN, [this](uint32_t) { OnV1Event(); }));
  added_ = true;
  return Status::Ok();
}

void OomWatcher::Stop() {
  if (added_) loop_.Remove(watch_fd_.get());
  added_ = false;
  watch_fd_.Reset();
  control_fd_.Reset();
}

uint64_t OomWatcher::ReadOomKills() const {
  auto text = files::ReadFd(watch_fd_.get(), dir_ + "/memory.events");
  return text.ok() ? OomKillCount(*text) : 0;
}

void OomWatcher::OnV1Event() {
  uint64_t count = 0;
  if (::read(watch_fd_.get(), &count, sizeof(count)) != sizeof(count)) return;
  struct stat st{};
  if (::stat(dir_.c_str(), &st) != 0) {  // the cgroup went away, not an OOM
    Stop();
    return;
  }
  if (on_oom_) on_oom_();
}

void OomWatcher::OnV2Event() {
  uint64_t now = ReadOomKills();
  struct stat st{};
  if (::stat(dir_.c_str(), &st) != 0) {
    Stop();
    return;
  }
  if (now > last_oom_kill_) {
    last_oom_kill_ = now;
    if (on_oom_) on_oom_();
  }
}

}  // namespace berth::shim
