#include "remotes/backoff.h"

#include <gtest/gtest.h>


namespace berth::remotes {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, ExponentialAndCapped) {
  EXPECT_EQ(RetryDelay(0, milliseconds(200)), milliseconds(200));
  EXPECT_EQ(RetryDelay(1, milliseconds(200)), milliseconds(400));
  EXPECT_EQ(RetryDelay(3, milliseconds(200)), milliseconds(1600));
  EXPECT_EQ(RetryDelay(40, milliseconds(200)), std::chrono::minutes(1));
  EXPECT_EQ(RetryDelay(2, milliseconds(0)), milliseconds(0));
}

TEST(BackoffTest, RetryAfterWhenSmall) {
  EXPECT_EQ(RetryDelay(0, milliseconds(200), "2"), seconds(2));
  EXPECT_EQ(RetryDelay(5, milliseconds(200), " 0 "), seconds(0));
  EXPECT_EQ(RetryDelay(0, milliseconds(200), "30"), seconds(30));
  // Too long, a date, or garbage: the backoff.
  EXPECT_EQ(RetryDelay(1, milliseconds(200), "31"), milliseconds(400));
  EXPECT_EQ(RetryDelay(1, milliseconds(200), "Wed, 21 Oct 2015 07:28:00 GMT"), milliseconds(400));
  EXPECT_EQ(RetryDelay(1, milliseconds(200), "-1"), milliseconds(400));
  EXPECT_EQ(RetryDelay(1, milliseconds(200), "1.5"), milliseconds(400));
}

}  // namespace
}  // namespace berth::remotes
