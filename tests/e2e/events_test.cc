// Events: real `ctr events` receives what berth publishes and what the daemon emits.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <thread>

#include "harness.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class EventsE2E : public BerthdTest {
 protected:
  // Starts `ctr events [filters]` and waits until its subscription is in place, by
  // publishing a marker event until it shows up.
  std::unique_ptr<BackgroundProcess> Subscribe(const std::string& name,
                                               const std::vector<std::string>& filters = {}) {
    std::vector<std::string> args = {"events"};
    args.insert(args.end(), filters.begin(), filters.end());
    auto p = std::make_unique<BackgroundProcess>(daemon_->CtrArgv(args), dir_->path() / (name + ".out"));
    for (int i = 0; i < 100; ++i) {
      daemon_->Ctr({"namespaces", "create", "marker" + std::to_string(i)});
      if (p->WaitForOutput("marker" + std::to_string(i), 100ms)) return p;
    }
    ADD_FAILURE() << "ctr events never subscribed:\n" << p->Output();
    return p;
  }
};

TEST_F(EventsE2E, CtrEventsReceivesEventPublishedByBerth) {
  auto sub = Subscribe("all");
  auto r = daemon_->Berth({"--namespace", "demo", "events", "publish", "--topic", "/berth/hello",
                           "--type", "containerd.events.NamespaceCreate", "--data",
                           R"({"name":"from-berth","labels":{"k":"v"}})"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_TRUE(sub->WaitForOutput("/berth/hello", 10s)) << sub->Output();
  std::string out = sub->Output();
  EXPECT_THAT(out, ::testing::ContainsRegex(" demo /berth/hello .*from-berth"));
  EXPECT_THAT(out, HasSubstr("\"k\":\"v\""));
}

TEST_F(EventsE2E, DaemonPublishesNamespaceEvents) {
  auto sub = Subscribe("ns");
  ASSERT_EQ(daemon_->Ctr({"namespaces", "create", "evns", "a=b"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"namespaces", "label", "evns", "c=d"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"namespaces", "rm", "evns"}).exit_code, 0);
  ASSERT_TRUE(sub->WaitForOutput("/namespaces/delete", 10s)) << sub->Output();
  std::string out = sub->Output();
  EXPECT_THAT(out, ::testing::ContainsRegex("/namespaces/create \\{\"name\":\"evns\",\"labels\":\\{\"a\":\"b\"\\}\\}"));
  EXPECT_THAT(out, HasSubstr("/namespaces/update"));
  EXPECT_THAT(out, ::testing::ContainsRegex(" evns /namespaces/delete \\{\"name\":\"evns\"\\}"));
}

TEST_F(EventsE2E, SubscriptionFiltersByTopicAndNamespace) {
  auto only_updates = Subscribe("filtered", {R"(topic=="/namespaces/update")", R"(topic~="^/namespaces/create$",namespace==default)"});
  ASSERT_EQ(daemon_->Ctr({"namespaces", "create", "f1"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"namespaces", "label", "f1", "x=y"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"namespaces", "rm", "f1"}).exit_code, 0);
  ASSERT_TRUE(only_updates->WaitForOutput("/namespaces/update", 10s)) << only_updates->Output();
  // Give a delete event time to (wrongly) arrive.
  std::this_thread::sleep_for(300ms);
  EXPECT_THAT(only_updates->Output(), ::testing::Not(HasSubstr("/namespaces/delete")));
}

TEST_F(EventsE2E, BerthEventsShowsEventsAndStopsOnSignal) {
  auto p = std::make_unique<BackgroundProcess>(daemon_->BerthArgv({"events"}), dir_->path() / "berth-events.out");
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    daemon_->Ctr({"namespaces", "create", "bmark" + std::to_string(i)});
    seen = p->WaitForOutput("/namespaces/create", 100ms);
  }
  ASSERT_TRUE(seen) << p->Output();
  EXPECT_THAT(p->Output(), HasSubstr("bmark"));
  EXPECT_EQ(p->Stop(), 0) << p->Output();
}

TEST_F(EventsE2E, PublishValidatesTopicAndNamespace) {
  auto r = daemon_->Berth({"events", "publish", "--topic", "no-leading-slash"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("invalid argument"));
  r = daemon_->Berth({"events", "publish", "--topic", "/bad//component"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("invalid argument"));
}

}  // namespace
}  // namespace berth::e2e
