// ScopeGuard: runs at the end of the scope unless dismissed, guards in reverse order.
#include "common/scope_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

TEST(ScopeGuardTest, RunsAtScopeEndInReverseOrder) {
  std::string trace;
  {
    ScopeGuard first([&] { trace += "1"; });
    ScopeGuard second([&] { trace += "2"; });
    EXPECT_EQ(trace, "");
  }
  EXPECT_EQ(trace, "21");
}

TEST(ScopeGuardTest, DismissedGuardDoesNotRun) {
  int runs = 0;
  {
    ScopeGuard guard([&] { ++runs; });
    guard.Dismiss();
  }
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace berth
