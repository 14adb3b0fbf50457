// control::OperationGate: the seed's --concurrency over task operations.
#include "control/tasks.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace berth::control {
namespace {

TEST(OperationGateTest, AtMostLimitRunAtOnce) {
  OperationGate gate(3);
  std::atomic<int> running{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      auto pass = gate.Enter();
      int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      --running;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 3);
  EXPECT_EQ(running.load(), 0);
}

TEST(OperationGateTest, ZeroIsUnbounded) {
  OperationGate gate(0);
  std::vector<OperationGate::Pass> passes;
  for (int i = 0; i < 100; ++i) passes.push_back(gate.Enter());  // never blocks
  SUCCEED();
}

}  // namespace
}  // namespace berth::control
