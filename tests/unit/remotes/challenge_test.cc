#include "remotes/challenge.h"

#include <gtest/gtest.h>

#include "remotes/base64.h"

namespace berth::remotes {
namespace {

TEST(ChallengeTest, BearerWithQuotedCommas) {
  auto c = ParseWWWAuthenticate(
      R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.example.com/token");
  EXPECT_EQ(c[0].params["service"], "registry.example.com");
  EXPECT_EQ(c[0].params["scope"], "repository:a/b:pull,push");
}

TEST(ChallengeTest, BasicAndSpacingAndCase) {
  auto c = ParseWWWAuthenticate(R"(basic Realm = "Registry Realm")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry Realm");
}

TEST(ChallengeTest, SeveralChallengesInOneHeader) {
  auto c = ParseWWWAuthenticate(
      R"(Bearer realm="http://127.0.0.1:1/t", service="s", error="invalid_token", Basic realm="x\"y")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params.size(), 3u);
  EXPECT_EQ(c[0].params["error"], "invalid_token");
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].params["realm"], "x\"y");
}

TEST(ChallengeTest, UnquotedValuesAndEmpty) {
  auto c = ParseWWWAuthenticate("Bearer realm=https://a/token,service=reg");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params["realm"], "https://a/token");
  EXPECT_EQ(c[0].params["service"], "reg");
  EXPECT_TRUE(ParseWWWAuthenticate("").empty());
  EXPECT_TRUE(ParseWWWAuthenticate("  ,  ").empty());
  auto bare = ParseWWWAuthenticate("Negotiate");
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].scheme, "negotiate");
  EXPECT_TRUE(bare[0].params.empty());
}

TEST(ChallengeBase64Test, RoundTripsAndRejects) {
  for (std::string s : std::initializer_list<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value()) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("user:password"), "dXNlcjpwYXNzd29yZA==");
  EXPECT_EQ(Base64Decode("dXNlcjpwYXNzd29yZA").value_or("?"), "user:password");  // no padding
  EXPECT_FALSE(Base64Decode("not base64!").has_value());
  EXPECT_FALSE(Base64Decode("a").has_value());
}

}  // namespace
}  // namespace berth::remotes
