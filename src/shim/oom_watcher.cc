#include "shim/oom_watcher.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/logging.h"

namespace berth::shim {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[1024];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace

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
    int fd = ::open((dir_ + "/memory.events").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + dir_ + "/memory.events", errno);
    watch_fd_.Reset(fd);
    last_oom_kill_ = OomKillCount(ReadAll(fd));
    BERTH_RETURN_IF_ERROR(loop_.Add(fd, EPOLLPRI, [this](uint32_t) { OnV2Event(); }));
    added_ = true;
    return Status::Ok();
  }
  auto it = cg.v1.find("memory");
  if (it == cg.v1.end()) return NotFound("no memory cgroup");
  dir_ = it->second;
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return ErrnoStatus("eventfd", errno);
  watch_fd_.Reset(efd);
  int oc = ::open((dir_ + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC);
  if (oc < 0) return ErrnoStatus("open " + dir_ + "/memory.oom_control", errno);
  control_fd_.Reset(oc);
  int ec = ::open((dir_ + "/cgroup.event_control").c_str(), O_WRONLY | O_CLOEXEC);
  if (ec < 0) return ErrnoStatus("open " + dir_ + "/cgroup.event_control", errno);
  std::string line = std::to_string(efd) + " " + std::to_string(oc);
  ssize_t n = ::write(ec, line.data(), line.size());
  int err = errno;
  ::close(ec);
  if (n < 0) return ErrnoStatus("register oom event", err);
  BERTH_RETURN_IF_ERROR(loop_.Add(efd, EPOLLIN, [this](uint32_t) { OnV1Event(); }));
  added_ = true;
  return Status::Ok();
}

void OomWatcher::Stop() {
  if (added_) loop_.Remove(watch_fd_.get());
  added_ = false;
  watch_fd_.Reset();
  control_fd_.Reset();
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
  uint64_t now = OomKillCount(ReadAll(watch_fd_.get()));
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
