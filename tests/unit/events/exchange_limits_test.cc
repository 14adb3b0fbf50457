// How far an event subscriber may fall behind: per-subscriber bounds (events, bytes), the
// exchange-wide bound that drops the subscribers furthest behind first, the accounting of
// queued bytes, and the notify callback that callback-style streams are driven by.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"

namespace berth::events {
namespace {

using namespace std::chrono_literals;

// An event whose encoded envelope is a little over `bytes`.
containerd::events::NamespaceCreate Sized(size_t bytes) {
  containerd::events::NamespaceCreate e;
  e.set_name(std::string(bytes, 'x'));
  return e;
}

// Takes every queued envelope; returns how many.
int Drain(Subscription& sub) {
  Envelope env;
  int n = 0;
  while (sub.Next(0ms, &env) == Subscription::Wait::kEvent) ++n;
  return n;
}

TEST(ExchangeLimitsTest, SubscriberTooManyBytesBehindIsDroppedAndFreed) {
  Exchange ex(ExchangeLimits{.max_events = 1000, .max_bytes = 64 << 10, .max_total_bytes = 1 << 30});
  auto slow = ex.Subscribe(nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(ex.Publish("ns", "/t", Sized(8 << 10)).ok());
  Envelope env;
  EXPECT_EQ(slow->Next(0ms, &env), Subscription::Wait::kClosed) << "nothing is kept for a dropped subscriber";
  EXPECT_EQ(slow->CloseReason().code(), Errc::kResourceExhausted);
  EXPECT_NE(slow->CloseReason().message().find("fell too far behind"), std::string::npos)
      << slow->CloseReason().ToString();
  EXPECT_EQ(slow->queued_bytes(), 0u);
  EXPECT_EQ(ex.queued_bytes(), 0u);
}

TEST(ExchangeLimitsTest, SubscriberTooManyEventsBehindIsDropped) {
  Exchange ex(ExchangeLimits{.max_events = 10, .max_bytes = 1 << 30, .max_total_bytes = 1 << 30});
  auto slow = ex.Subscribe(nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ex.Publish("ns", "/t", Sized(1)).ok());
  EXPECT_GT(slow->queued_bytes(), 0u) << "ten events still fit";
  ASSERT_TRUE(ex.Publish("ns", "/t", Sized(1)).ok());
  Envelope env;
  EXPECT_EQ(slow->Next(0ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(slow->CloseReason().code(), Errc::kResourceExhausted);
}

TEST(ExchangeLimitsTest, SubscriberThatKeepsUpGetsEveryEventWhileASlowOneIsDropped) {
  Exchange ex(ExchangeLimits{.max_events = 1000, .max_bytes = 32 << 10, .max_total_bytes = 1 << 30});
  auto slow = ex.Subscribe(nullptr);
  auto fast = ex.Subscribe(nullptr);
  int received = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(ex.Publish("ns", "/t", Sized(1 << 10)).ok());
    received += Drain(*fast);
  }
  EXPECT_EQ(received, 200);
  Envelope env;
  EXPECT_EQ(slow->Next(0ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(fast->Next(0ms, &env), Subscription::Wait::kTimeout) << "the fast one is still subscribed";
  EXPECT_TRUE(fast->CloseReason().ok());
}

TEST(ExchangeLimitsTest, OneEventLargerThanTheBoundStillReachesAnEmptyQueue) {
  Exchange ex(ExchangeLimits{.max_events = 1000, .max_bytes = 4 << 10, .max_total_bytes = 1 << 30});
  auto sub = ex.Subscribe(nullptr);
  ASSERT_TRUE(ex.Publish("ns", "/big", Sized(64 << 10)).ok());
  Envelope env;
  ASSERT_EQ(sub->Next(0ms, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.topic(), "/big");
  EXPECT_EQ(ex.queued_bytes(), 0u);
  // A second one behind it is too much.
  ASSERT_TRUE(ex.Publish("ns", "/big", Sized(64 << 10)).ok());
  ASSERT_TRUE(ex.Publish("ns", "/big", Sized(64 << 10)).ok());
  ASSERT_EQ(sub->Next(0ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(sub->CloseReason().code(), Errc::kResourceExhausted);
}

TEST(ExchangeLimitsTest, TotalBoundDropsTheSubscribersFurthestBehindFirst) {
  // Each subscriber alone may hold 1 MiB; all together 96 KiB.
  Exchange ex(ExchangeLimits{.max_events = 100000, .max_bytes = 1 << 20, .max_total_bytes = 96 << 10});
  auto never_reads = ex.Subscribe(nullptr);
  auto reads_half = ex.Subscribe(nullptr);
  auto reads_all = ex.Subscribe(nullptr);
  Envelope env;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(ex.Publish("ns", "/t", Sized(1 << 10)).ok());
    if (i % 2 == 0) reads_half->Next(0ms, &env);
    Drain(*reads_all);
    EXPECT_LE(ex.queued_bytes(), ex.limits().max_total_bytes) << "after publish " << i;
  }
  EXPECT_EQ(never_reads->Next(0ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(never_reads->CloseReason().code(), Errc::kResourceExhausted);
  EXPECT_EQ(reads_all->Next(0ms, &env), Subscription::Wait::kTimeout);
  EXPECT_TRUE(reads_all->CloseReason().ok()) << "a subscriber that keeps up is never shed";
  EXPECT_EQ(ex.subscribers(), 3u) << "dropped subscriptions stay registered until destroyed";
}

TEST(ExchangeLimitsTest, QueuedBytesAreAccountedAndReturned) {
  Exchange ex;
  auto a = ex.Subscribe(nullptr);
  auto b = ex.Subscribe(nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ex.Publish("ns", "/t", Sized(100)).ok());
  EXPECT_GT(a->queued_bytes(), 10u * 100u);
  EXPECT_EQ(ex.queued_bytes(), a->queued_bytes() + b->queued_bytes());
  EXPECT_EQ(Drain(*a), 10);
  EXPECT_EQ(a->queued_bytes(), 0u);
  EXPECT_EQ(ex.queued_bytes(), b->queued_bytes());
  b.reset();  // what a subscription still held goes with it
  EXPECT_EQ(ex.queued_bytes(), 0u);
  EXPECT_EQ(ex.subscribers(), 1u);
}

TEST(ExchangeLimitsTest, PublishingIsNotSlowedByAThousandSubscribersThatNeverRead) {
  Exchange ex(ExchangeLimits{.max_events = 65536, .max_bytes = 16 << 20, .max_total_bytes = 8 << 20});
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < 1000; ++i) subs.push_back(ex.Subscribe(nullptr));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(ex.Publish("ns", "/t", Sized(1 << 10)).ok());
    ASSERT_LE(ex.queued_bytes(), ex.limits().max_total_bytes);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  size_t dropped = 0;
  Envelope env;
  for (auto& s : subs) {
    while (s->Next(0ms, &env) == Subscription::Wait::kEvent) {
    }
    if (!s->CloseReason().ok()) ++dropped;
  }
  EXPECT_GT(dropped, 0u);
  subs.clear();
  EXPECT_EQ(ex.subscribers(), 0u);
  EXPECT_EQ(ex.queued_bytes(), 0u);
}

TEST(ExchangeLimitsTest, NotifyRunsOnEveryQueuedEventAndOnCloseButNotInSubscribe) {
  Exchange ex;
  std::atomic<int> calls{0};
  auto sub = ex.Subscribe(nullptr, [&] { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 0);
  ASSERT_TRUE(ex.Publish("ns", "/a", Sized(1)).ok());
  ASSERT_TRUE(ex.Publish("ns", "/b", Sized(1)).ok());
  EXPECT_EQ(calls.load(), 2);
  // The callback may take events itself (as a stream's Pump does).
  Envelope env;
  ASSERT_EQ(sub->Next(0ms, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.topic(), "/a");
  ex.Close();
  EXPECT_EQ(calls.load(), 3);
  // Queued before the close: still delivered, then closed.
  ASSERT_EQ(sub->Next(0ms, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.topic(), "/b");
  EXPECT_EQ(sub->Next(0ms, &env), Subscription::Wait::kClosed);

  std::atomic<int> late_calls{0};
  auto late = ex.Subscribe(nullptr, [&] { late_calls.fetch_add(1); });
  EXPECT_EQ(late->Next(0ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(late->CloseReason().code(), Errc::kUnavailable);
  EXPECT_EQ(late_calls.load(), 0) << "never from inside Subscribe";
}

TEST(ExchangeLimitsTest, NotifyCanTakeEventsFromThePublishingThread) {
  Exchange ex;
  std::vector<std::string> seen;
  Subscription* raw = nullptr;
  auto sub = ex.Subscribe(nullptr, [&] {
    Envelope env;
    if (raw != nullptr && raw->Next(0ms, &env) == Subscription::Wait::kEvent) seen.push_back(env.topic());
  });
  raw = sub.get();
  ASSERT_TRUE(ex.Publish("ns", "/one", Sized(1)).ok());
  ASSERT_TRUE(ex.Publish("ns", "/two", Sized(1)).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"/one", "/two"}));
  EXPECT_EQ(ex.queued_bytes(), 0u);
}

}  // namespace
}  // namespace berth::events
