// RunBounded: every item once, at most `concurrency` at a time, the first real failure wins.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "client/worker_pool.h"

namespace berth::client {
namespace {

const auto kNever = [] { return false; };
const auto kNothing = [] {};

TEST(WorkerPoolTest, RunsEveryItemOnceWithinTheBound) {
  constexpr size_t kCount = 40;
  std::vector<std::atomic<int>> runs(kCount);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  Status st = RunBounded(
      kCount, 3,
      [&](size_t i) {
        int now = running.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        runs[i].fetch_add(1);
        running.fetch_sub(1);
        return Status::Ok();
      },
      kNever, kNothing);
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (size_t i = 0; i < kCount; ++i) EXPECT_EQ(runs[i].load(), 1) << "item " << i;
  EXPECT_GE(most.load(), 1);
  EXPECT_LE(most.load(), 3);
}

TEST(WorkerPoolTest, NothingToDoIsOk) {
  bool called = false;
  Status st = RunBounded(
      0, 4,
      [&](size_t) {
        called = true;
        return Status::Ok();
      },
      kNever, kNothing);
  EXPECT_TRUE(st.ok());
  EXPECT_FALSE(called);
}

TEST(WorkerPoolTest, AFailureOtherThanCanceledWins) {
  Status st = RunBounded(
      3, 1,
      [](size_t i) {
        if (i == 0) return Status(Errc::kCanceled, "stopped by another");
        if (i == 1) return Status(Errc::kNotFound, "the real failure");
        return Status(Errc::kCanceled, "stopped too");
      },
      kNever, kNothing);
  EXPECT_TRUE(st.Is(Errc::kNotFound)) << st.ToString();
}

TEST(WorkerPoolTest, StopsTakingItemsAfterAFailure) {
  std::atomic<bool> failed{false};
  std::vector<size_t> ran;
  Status st = RunBounded(
      5, 1,
      [&](size_t i) {
        ran.push_back(i);
        return i == 1 ? Status(Errc::kUnknown, "broken") : Status::Ok();
      },
      [&] { return failed.load(); }, [&] { failed = true; });
  EXPECT_TRUE(st.Is(Errc::kUnknown)) << st.ToString();
  EXPECT_EQ(ran, (std::vector<size_t>{0, 1}));
}

}  // namespace
}  // namespace berth::client
