#include "ttrpc/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace berth::ttrpc {

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kMaxEvents = 64;
// epoll data for the wake-up eventfd; fd registrations use ids from 1 up.
constexpr uint64_t kWakeId = 0;
}  // namespace

struct EventLoop::Impl {
  UniqueFd epfd;
  UniqueFd wakefd;

  // An fd registration. epoll carries the registration id, not the fd: an event still queued
  // for an fd that a callback removed (and maybe re-added) in the same round is then dropped
  // instead of reaching the new owner.
  struct Watch {
    int fd;  // not owned: whoever Add()ed it closes it, after Remove()
    std::shared_ptr<FdCallback> cb;  // shared so a callback may Remove itself while running
  };
  uint64_t next_watch_id = 1;
  std::unordered_map<uint64_t, Watch> watches;
  std::unordered_map<int, uint64_t> watch_of_fd;

  // Timers ordered by (deadline, id); `timer_due` finds an id's entry for CancelTimer.
  TimerId next_timer_id = 1;
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers;
  std::unordered_map<TimerId, Clock::time_point> timer_due;

  std::mutex post_mu;
  std::vector<std::function<void()>> posted;  // guarded by post_mu

  std::atomic<bool> stop{false};
  std::atomic<std::thread::id> loop_thread{};

  void Wake() {
    uint64_t one = 1;
    // EAGAIN only when the counter is saturated, which is still a pending wake-up.
    [[maybe_unused]] ssize_t n = ::write(wakefd.get(), &one, sizeof one);
  }

  void DrainPosted() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(wakefd.get(), &count, sizeof count);
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(post_mu);
      batch.swap(posted);
    }
    for (auto& fn : batch) fn();
  }

  void RunDueTimers() {
    // Only timers due when the round started: one added by a callback with zero delay waits
    // for the next round, so a timer re-arming itself cannot starve the fds. One at a time, so
    // a callback cancelling another due timer does cancel it.
    auto now = Clock::now();
    while (!timers.empty() && timers.begin()->first.first <= now) {
      auto node = timers.extract(timers.begin());
      timer_due.erase(node.key().second);
      node.mapped()();
    }
  }

  int EpollTimeoutMs(std::chrono::milliseconds limit) const {
    int64_t ms = limit.count() < 0 ? -1 : limit.count();
    if (!timers.empty()) {
      auto until = timers.begin()->first.first - Clock::now();
      // Round up so a timer is never woken for a hair early and spun on.
      int64_t t = std::chrono::ceil<std::chrono::milliseconds>(until).count();
      if (t < 0) t = 0;
      if (ms < 0 || t < ms) ms = t;
    }
    if (ms > 1'000'000'000) ms = 1'000'000'000;
    return static_cast<int>(ms);
  }
};

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  auto impl = std::make_unique<Impl>();
  impl->epfd.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!impl->epfd) return ErrnoStatus("epoll_create1", errno);
  impl->wakefd.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl->wakefd) return ErrnoStatus("eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (::epoll_ctl(impl->epfd.get(), EPOLL_CTL_ADD, impl->wakefd.get(), &ev) < 0) {
    return ErrnoStatus("epoll_ctl eventfd", errno);
  }
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(impl)));
}

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLoop::~EventLoop() = default;

Status EventLoop::Add(int fd, uint32_t events, FdCallback cb) {
  if (impl_->watch_of_fd.contains(fd)) {
    return Error(Errc::kAlreadyExists, "event loop: fd {} is already watched", fd);
  }
  uint64_t id = impl_->next_watch_id++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (::epoll_ctl(impl_->epfd.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
    return ErrnoStatus(fmt::format("epoll_ctl add fd {}", fd), errno);
  }
  impl_->watches.emplace(id, Impl::Watch{fd, std::make_shared<FdCallback>(std::move(cb))});
  impl_->watch_of_fd.emplace(fd, id);
  return Status::Ok();
}

Status EventLoop::Modify(int fd, uint32_t events) {
  auto it = impl_->watch_of_fd.find(fd);
  if (it == impl_->watch_of_fd.end()) return Error(Errc::kNotFound, "event loop: fd {} is not watched", fd);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second;
  if (::epoll_ctl(impl_->epfd.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
    return ErrnoStatus(fmt::format("epoll_ctl mod fd {}", fd), errno);
  }
  return Status::Ok();
}

void EventLoop::Remove(int fd) {
  auto it = impl_->watch_of_fd.find(fd);
  if (it == impl_->watch_of_fd.end()) return;
  ::epoll_ctl(impl_->epfd.get(), EPOLL_CTL_DEL, fd, nullptr);
  impl_->watches.erase(it->second);
  impl_->watch_of_fd.erase(it);
}

EventLoop::TimerId EventLoop::AddTimer(std::chrono::milliseconds delay, std::function<void()> fn) {
  TimerId id = impl_->next_timer_id++;
  auto due = Clock::now() + delay;
  impl_->timers.emplace(std::make_pair(due, id), std::move(fn));
  impl_->timer_due.emplace(id, due);
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  auto it = impl_->timer_due.find(id);
  if (it == impl_->timer_due.end()) return;
  impl_->timers.erase(std::make_pair(it->second, id));
  impl_->timer_due.erase(it);
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(impl_->post_mu);
    impl_->posted.push_back(std::move(fn));
  }
  impl_->Wake();
}

Status EventLoop::Run() {
  // A Stop() that came before Run() is honoured (exchange), so a stop is never lost.
  while (!impl_->stop.exchange(false)) {
    BERTH_RETURN_IF_ERROR(RunOnce(std::chrono::milliseconds(-1)));
  }
  return Status::Ok();
}

Status EventLoop::RunOnce(std::chrono::milliseconds timeout) {
  auto previous = impl_->loop_thread.exchange(std::this_thread::get_id());
  struct Restore {
    Impl* impl;
    std::thread::id previous;
    ~Restore() { impl->loop_thread.store(previous); }
  } restore{impl_.get(), previous};

  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(impl_->epfd.get(), events, kMaxEvents, impl_->EpollTimeoutMs(timeout));
  if (n < 0) {
    if (errno == EINTR) return Status::Ok();
    return ErrnoStatus("epoll_wait", errno);
  }
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    uint64_t id = events[i].data.u64;
    if (id == kWakeId) {
      woken = true;
      continue;
    }
    auto it = impl_->watches.find(id);
    if (it == impl_->watches.end()) continue;  // removed earlier in this round
    std::shared_ptr<FdCallback> cb = it->second.cb;
    (*cb)(events[i].events);
  }
  impl_->RunDueTimers();
  if (woken) impl_->DrainPosted();
  return Status::Ok();
}

void EventLoop::Stop() {
  impl_->stop.store(true);
  impl_->Wake();
}

bool EventLoop::InLoopThread() const {
  return impl_->loop_thread.load() == std::this_thread::get_id();
}

}  // namespace berth::ttrpc
