#include "common/crash_point.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace berth {
namespace {

// Runs `passes` in a child whose environment arms `spec` (the point reads it once, at the
// child's first pass); returns how many passes completed before the child died or exited
// and whether SIGKILL ended it.
struct Outcome {
  int completed = -1;
  bool killed = false;
};

Outcome RunChild(const char* spec, const std::vector<std::string>& passes) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (spec != nullptr) ::setenv(kCrashPointEnv, spec, 1);
    for (const auto& p : passes) {
      CrashPoint(p);
      char one = 1;
      if (::write(fds[1], &one, 1) != 1) ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  Outcome out;
  out.completed = 0;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1) ++out.completed;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  out.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return out;
}

TEST(CrashPointTest, UnarmedNeverKills) {
  auto o = RunChild(nullptr, {"a", "a", "b"});
  EXPECT_EQ(o.completed, 3);
  EXPECT_FALSE(o.killed);
}

TEST(CrashPointTest, KillsAtTheFirstPassOfItsPoint) {
  auto o = RunChild("b", {"a", "a", "b", "a"});
  EXPECT_EQ(o.completed, 2);
  EXPECT_TRUE(o.killed);
}

TEST(CrashPointTest, KillsAtTheNthPass) {
  auto o = RunChild("a@3", {"a", "b", "a", "b", "a", "b"});
  EXPECT_EQ(o.completed, 4);
  EXPECT_TRUE(o.killed);
}

TEST(CrashPointTest, OtherPointsAndABadCountAreNotConfusedWithIt) {
  EXPECT_EQ(RunChild("content.commit", {"content.commit.verified", "content"}).completed, 2);
  // "@x" is not a count: the whole string is the name.
  auto o = RunChild("a@x", {"a", "a@x"});
  EXPECT_EQ(o.completed, 1);
  EXPECT_TRUE(o.killed);
}

}  // namespace
}  // namespace berth
