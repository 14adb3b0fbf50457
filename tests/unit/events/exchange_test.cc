#include "events/exchange.h"

#include <gtest/gtest.h>

#include <thread>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"

namespace berth::events {
namespace {

using namespace std::chrono_literals;

containerd::events::NamespaceCreate Created(const std::string& name) {
  containerd::events::NamespaceCreate e;
  e.set_name(name);
  return e;
}

TEST(ExchangeTest, TypeUrlIsTheBareFullName) {
  auto any = PackAny(Created("x"));
  EXPECT_EQ(any.type_url(), "containerd.events.NamespaceCreate");
}

TEST(ExchangeTest, ValidatesTopics) {
  EXPECT_TRUE(ValidateTopic("/namespaces/create").ok());
  EXPECT_TRUE(ValidateTopic("/a").ok());
  for (const char* bad : {"", "/", "x/y", "/a//b", "/a/", "/a b", "/-a"}) {
    EXPECT_TRUE(ValidateTopic(bad).Is(Errc::kInvalidArgument)) << bad;
  }
}

TEST(ExchangeTest, DeliversToMatchingSubscribersOnly) {
  Exchange ex;
  auto all = ex.Subscribe(nullptr);
  auto f = filters::ParseAll({"namespace==ns2"});
  ASSERT_TRUE(f.ok());
  auto only_ns2 = ex.Subscribe(*f);
  auto ev = filters::ParseAll({"event.name==wanted"});
  ASSERT_TRUE(ev.ok());
  auto by_payload = ex.Subscribe(*ev);

  ASSERT_TRUE(ex.Publish("ns1", "/namespaces/create", Created("other")).ok());
  ASSERT_TRUE(ex.Publish("ns2", "/namespaces/create", Created("wanted")).ok());

  Envelope env;
  ASSERT_EQ(all->Next(1s, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.namespace_(), "ns1");
  EXPECT_GT(env.timestamp().seconds(), 0);
  ASSERT_EQ(all->Next(1s, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.namespace_(), "ns2");

  ASSERT_EQ(only_ns2->Next(1s, &env), Subscription::Wait::kEvent);
  EXPECT_EQ(env.namespace_(), "ns2");
  EXPECT_EQ(only_ns2->Next(10ms, &env), Subscription::Wait::kTimeout);

  ASSERT_EQ(by_payload->Next(1s, &env), Subscription::Wait::kEvent);
  containerd::events::NamespaceCreate got;
  ASSERT_TRUE(got.ParseFromString(env.event().value()));
  EXPECT_EQ(got.name(), "wanted");
  EXPECT_EQ(by_payload->Next(10ms, &env), Subscription::Wait::kTimeout);
}

TEST(ExchangeTest, PublishRejectsBadNamespaceOrTopic) {
  Exchange ex;
  EXPECT_TRUE(ex.Publish("", "/a", Created("x")).Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ex.Publish("ns", "a", Created("x")).Is(Errc::kInvalidArgument));
  Envelope no_time;
  no_time.set_namespace_("ns");
  no_time.set_topic("/a");
  EXPECT_TRUE(ex.Forward(no_time).Is(Errc::kInvalidArgument));
}

TEST(ExchangeTest, CloseWakesSubscribers) {
  Exchange ex;
  auto sub = ex.Subscribe(nullptr);
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    ex.Close();
  });
  Envelope env;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sub->Next(10s, &env), Subscription::Wait::kClosed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  closer.join();
  EXPECT_TRUE(sub->CloseReason().ok());
}

TEST(ExchangeTest, SlowSubscriberIsDroppedNotGrown) {
  Exchange ex;
  auto sub = ex.Subscribe(nullptr);
  for (size_t i = 0; i <= Exchange::kMaxQueued; ++i) {
    ASSERT_TRUE(ex.Publish("ns", "/t", Created("x")).ok());
  }
  Envelope env;
  EXPECT_EQ(sub->Next(10ms, &env), Subscription::Wait::kClosed);
  EXPECT_EQ(sub->CloseReason().code(), Errc::kResourceExhausted);
}

}  // namespace
}  // namespace berth::events
