// UniqueFd and UniqueDir: closed exactly once, by their owner.
#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>

namespace berth {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(UniqueFdTest, ClosesWhenItGoes) {
  int raw = -1;
  {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    raw = fd.get();
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, MoveHandsOverAndReleaseGivesUp) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  UniqueFd b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(b.get(), raw);
  int released = b.Release();
  EXPECT_FALSE(b.valid());
  EXPECT_TRUE(IsOpen(released));
  UniqueFd c(released);
  EXPECT_EQ(c.Close(), 0);
  EXPECT_FALSE(IsOpen(released));
  EXPECT_EQ(c.Close(), -1);  // nothing left to close
}

TEST(UniqueFdTest, UniqueDirClosesTheStream) {
  UniqueDir dir(::opendir("/"));
  ASSERT_TRUE(dir);
  const int raw = ::dirfd(dir.get());
  dir.reset();
  EXPECT_FALSE(IsOpen(raw));
}

}  // namespace
}  // namespace berth
