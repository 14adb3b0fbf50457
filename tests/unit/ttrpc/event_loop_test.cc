#include "ttrpc/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace berth::ttrpc {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventLoop> NewLoop() {
  auto loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status().ToString();
  return std::move(*loop);
}

TEST(EventLoopTest, TimersFireInOrderAndCancelWorks) {
  auto loop = NewLoop();
  std::vector<int> fired;
  loop->AddTimer(milliseconds(30), [&] { fired.push_back(3); });
  loop->AddTimer(milliseconds(10), [&] { fired.push_back(1); });
  auto cancelled = loop->AddTimer(milliseconds(20), [&] { fired.push_back(2); });
  loop->CancelTimer(cancelled);
  loop->CancelTimer(cancelled);  // twice: no-op
  loop->CancelTimer(12345);      // unknown: no-op
  loop->AddTimer(milliseconds(40), [&] { loop->Stop(); });
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

TEST(EventLoopTest, ATimerMayCancelAnotherDueInTheSameRound) {
  auto loop = NewLoop();
  int second_ran = 0;
  EventLoop::TimerId second = 0;
  loop->AddTimer(milliseconds(5), [&] { loop->CancelTimer(second); });
  second = loop->AddTimer(milliseconds(5), [&] { ++second_ran; });
  std::this_thread::sleep_for(milliseconds(20));  // both due before the round starts
  ASSERT_TRUE(loop->RunOnce(milliseconds(50)).ok());
  ASSERT_TRUE(loop->RunOnce(milliseconds(10)).ok());
  EXPECT_EQ(second_ran, 0);
}

TEST(EventLoopTest, PostFromOtherThreadsWakesTheLoop) {
  auto loop = NewLoop();
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) loop->Post([&] { ran++; });
    });
  }
  std::thread runner([&] { EXPECT_TRUE(loop->Run().ok()); });
  for (auto& t : threads) t.join();
  loop->Post([&] { loop->Stop(); });
  runner.join();
  EXPECT_EQ(ran.load(), 4000);
}

TEST(EventLoopTest, StopBeforeRunIsNotLost) {
  auto loop = NewLoop();
  loop->Stop();
  ASSERT_TRUE(loop->Run().ok());  // returns at once
}

TEST(EventLoopTest, CallbackMayRemoveItselfAndOthers) {
  auto loop = NewLoop();
  int a = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int b = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int calls = 0;
  // Whichever runs first removes both: the other one's queued event must not be delivered.
  auto cb = [&](uint32_t) {
    ++calls;
    loop->Remove(a);
    loop->Remove(b);
  };
  ASSERT_TRUE(loop->Add(a, 1 /*EPOLLIN*/, cb).ok());
  ASSERT_TRUE(loop->Add(b, 1 /*EPOLLIN*/, cb).ok());
  EXPECT_EQ(loop->Add(a, 1, cb).code(), Errc::kAlreadyExists);
  ASSERT_TRUE(loop->RunOnce(milliseconds(100)).ok());
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(loop->RunOnce(milliseconds(10)).ok());
  EXPECT_EQ(calls, 1);
  ::close(a);
  ::close(b);
}

TEST(EventLoopTest, InLoopThread) {
  auto loop = NewLoop();
  EXPECT_FALSE(loop->InLoopThread());
  bool inside = false;
  loop->Post([&] { inside = loop->InLoopThread(); });
  ASSERT_TRUE(loop->RunOnce(milliseconds(100)).ok());
  EXPECT_TRUE(inside);
  EXPECT_FALSE(loop->InLoopThread());
}

}  // namespace
}  // namespace berth::ttrpc
