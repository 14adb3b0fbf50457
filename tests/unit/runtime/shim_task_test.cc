// ShimTask's Wait sharing and StatsOfAll's fan-out, against a stand-in shim: a ttrpc server
// on a temp socket that holds the calls it is told to hold, the loop on its own thread.
#include "runtime/shim_task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "../ttrpc/loop_thread.h"
#include "runtime/shim_stats.h"
#include "ttrpc/server.h"

namespace berth::runtime {
namespace {

using namespace std::chrono_literals;
using ttrpc::testing::LoopThread;
using ttrpc::testing::TempDir;
using ttrpc::testing::WaitFor;

class ShimTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = (dir_.path() / "shim.sock").string();
    server_ = std::make_unique<ttrpc::Server>(lt_.loop());
    // Wait: held until the test answers; counted.
    server_->Register(ShimTask::kService, "Wait", [this](const ttrpc::CallContext&, std::string_view, ttrpc::Responder r) {
      std::lock_guard lock(mu_);
      waits_.push_back(std::make_shared<ttrpc::Responder>(std::move(r)));
    });
    // Stats: answered at once with the task's pid, except for the task "hung" (never answered).
    server_->Register(ShimTask::kService, "Stats", [this](const ttrpc::CallContext&, std::string_view payload,
                                                         ttrpc::Responder r) {
      shimapi::StatsRequest req;
      req.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
      if (req.id() == "hung") {
        std::lock_guard lock(mu_);
        hung_.push_back(std::make_shared<ttrpc::Responder>(std::move(r)));
        return;
      }
      shimapi::StatsResponse resp;
      resp.mutable_stats()->set_type_url("test/" + req.id());
      r.Reply(resp);
    });
    ASSERT_TRUE(server_->Listen(socket_).ok());
    lt_.Start();
  }

  void TearDown() override {
    tasks_.clear();
    lt_.Sync([this] {
      server_.reset();
      std::lock_guard lock(mu_);
      waits_.clear();
      hung_.clear();
    });
    lt_.Stop();
  }

  std::shared_ptr<ShimTask> Task(const std::string& id) {
    auto client = ttrpc::Client::Connect(lt_.loop(), socket_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    auto task = std::make_shared<ShimTask>(Bundle{"ns", id, dir_.path() / id}, "berth-shim", *client);
    tasks_.push_back(task);
    return task;
  }

  size_t WaitCalls() {
    std::lock_guard lock(mu_);
    return waits_.size();
  }

  TempDir dir_;
  std::string socket_;
  LoopThread lt_;
  std::unique_ptr<ttrpc::Server> server_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ttrpc::Responder>> waits_;  // guarded by mu_
  std::vector<std::shared_ptr<ttrpc::Responder>> hung_;   // guarded by mu_
  std::vector<std::shared_ptr<ShimTask>> tasks_;
};

// Waiters that give up (a client hanging up, again and again) leave one call in the shim, not
// one each; the next waiter joins it and gets the exit when it comes.
TEST_F(ShimTaskTest, CancelledWaitsShareOneCallToTheShim) {
  auto task = Task("t1");
  ASSERT_NE(task, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto r = task->Wait("", [] { return true; });
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().Is(Errc::kCanceled)) << r.status().ToString();
  }
  ASSERT_TRUE(WaitFor([&] { return WaitCalls() >= 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(WaitCalls(), 1u) << "every cancelled Wait left a call in the shim";

  auto joined = std::async(std::launch::async, [&] { return task->Wait("", nullptr); });
  auto other = std::async(std::launch::async, [&] { return task->Wait("", nullptr); });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(WaitCalls(), 1u);
  shimapi::WaitResponse exit;
  exit.set_exit_status(7);
  lt_.Sync([&] {
    std::lock_guard lock(mu_);
    waits_.front()->Reply(exit);
  });
  for (auto* f : {&joined, &other}) {
    ASSERT_EQ(f->wait_for(10s), std::future_status::ready);
    auto r = f->get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_status(), 7u);
  }
  // Answered: the next Wait is a new call (a process that exited answers it at once).
  auto again = std::async(std::launch::async, [&] { return task->Wait("", [] { return true; }); });
  ASSERT_TRUE(WaitFor([&] { return WaitCalls() == 2; }));
  again.wait();
}

// Waits of different processes of one task are separate calls.
TEST_F(ShimTaskTest, WaitsOfDifferentExecsAreSeparateCalls) {
  auto task = Task("t2");
  ASSERT_NE(task, nullptr);
  (void)task->Wait("", [] { return true; });
  (void)task->Wait("exec1", [] { return true; });
  EXPECT_TRUE(WaitFor([&] { return WaitCalls() == 2; }));
}

// StatsOfAll asks every shim at once: a hung shim costs one bound for the whole, its result is
// DeadlineExceeded, the others' answers arrive in order.
TEST_F(ShimTaskTest, StatsOfAllAsksEveryShimAtOnceAndBoundsAHungOne) {
  std::vector<std::shared_ptr<ShimTask>> tasks = {Task("a"), Task("hung"), Task("b"), Task("c")};
  for (const auto& t : tasks) ASSERT_NE(t, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  auto results = StatsOfAll(tasks, 500ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(results.size(), 4u);
  EXPECT_LT(took, 2s) << "the calls ran one after another";
  EXPECT_GE(took, 400ms) << "the hung shim's call was not waited for";
  for (size_t i : {0u, 2u, 3u}) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status().ToString();
    EXPECT_EQ(results[i]->stats().type_url(), "test/" + tasks[i]->id());
  }
  ASSERT_FALSE(results[1].ok());
  EXPECT_TRUE(results[1].status().Is(Errc::kDeadlineExceeded)) << results[1].status().ToString();
  EXPECT_TRUE(StatsOfAll({}, 500ms).empty());
}

}  // namespace
}  // namespace berth::runtime
