#include "common/status.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(StatusTest, ToStringAppendsTheKindLikeContainerd) {
  EXPECT_EQ(NotFound("namespace {:?}", "n1").ToString(), "namespace \"n1\": not found");
  EXPECT_EQ(AlreadyExists("x").ToString(), "x: already exists");
  EXPECT_EQ(FailedPrecondition("y").ToString(), "y: failed precondition");
  EXPECT_EQ(Unknown("plain").ToString(), "plain");
  EXPECT_EQ(Status(Errc::kNotFound, "").ToString(), "not found");
}

TEST(StatusTest, WrapKeepsTheCode) {
  Status st = NotFound("blob").Wrap("read");
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  EXPECT_EQ(st.ToString(), "read: blob: not found");
  EXPECT_TRUE(Status::Ok().Wrap("ctx").ok());
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("{} is odd", x);
  return x / 2;
}

Result<int> Quarter(int x) {
  BERTH_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultCarriesValueOrStatus) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "3 is odd: invalid argument");
}

}  // namespace
}  // namespace berth
