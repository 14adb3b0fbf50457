#include "remotes/backoff.h"

#include <gtest/gtest.h>

#include "remotes/auth.h"
#include "remotes/http.h"

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

TEST(ScopesTest, MergesActionsPerResource) {
  auto s = ParseScopes({"repository:a/b:pull", "repository:a/b:push", "repository:c:pull,push", "registry:catalog:*"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s["repository:a/b"], (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(s["repository:c"], (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(s["registry:catalog"], (std::set<std::string>{"*"}));
  EXPECT_EQ(PullScope("x/y"), "repository:x/y:pull");
  EXPECT_EQ(PushScope("x/y"), "repository:x/y:pull,push");
}

TEST(UrlTest, OriginsAndLocations) {
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:5000/v2/a/blobs/x"), "http://127.0.0.1:5000");
  EXPECT_EQ(UrlOrigin("HTTPS://Storage.Example.com?x=1"), "https://storage.example.com");
  EXPECT_EQ(UrlOrigin("/relative"), "");
  EXPECT_EQ(ResolveUrl("http://h:1/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?_state=x").value(),
            "http://h:1/v2/a/blobs/uploads/u1?_state=x");
  EXPECT_EQ(ResolveUrl("http://h:1/v2/a/blobs/uploads/", "https://other/up/1").value(), "https://other/up/1");
  EXPECT_EQ(ResolveUrl("http://h:1/v2/a/blobs/uploads/", "u2").value(), "http://h:1/v2/a/blobs/uploads/u2");
  EXPECT_EQ(QueryEscape("sha256:ab/c d"), "sha256%3Aab%2Fc%20d");
}

TEST(UrlTest, RegistryErrorText) {
  EXPECT_EQ(RegistryErrorText(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})"),
            "MANIFEST_UNKNOWN: manifest unknown");
  EXPECT_EQ(RegistryErrorText("plain text\n"), "plain text");
}

}  // namespace
}  // namespace berth::remotes
