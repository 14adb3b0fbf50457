#include "remotes/auth.h"

#include <gtest/gtest.h>

namespace berth::remotes {
namespace {

HttpResponse Challenge401(const std::string& www_authenticate) {
  HttpResponse r;
  r.status = 401;
  if (!www_authenticate.empty()) r.headers.emplace("www-authenticate", www_authenticate);
  return r;
}

CredentialsFn Fixed(std::string user, std::string secret) {
  return [=](const std::string& host) -> std::optional<Credentials> {
    if (host != "reg.test:5000") return std::nullopt;
    return Credentials{.username = user, .secret = secret};
  };
}

TransportOptions NoRetries() {
  TransportOptions t;
  t.retries = 0;
  t.connect_timeout = std::chrono::seconds(2);
  return t;
}

TEST(AuthorizerTest, BasicAfterChallengeOnly) {
  Transport transport(NoRetries());
  Authorizer auth("reg.test:5000", Fixed("user", "pw"), &transport);
  EXPECT_EQ(auth.Header({PullScope("a")}).value(), "");  // nothing sent before a challenge
  ASSERT_TRUE(auth.OnUnauthorized(Challenge401(R"(Basic realm="Registry")"), "").ok());
  EXPECT_EQ(auth.Header({PullScope("a")}).value(), "Basic dXNlcjpwdw==");
  // A concurrent request that went out without credentials is retried, not refused.
  EXPECT_TRUE(auth.OnUnauthorized(Challenge401(R"(Basic realm="Registry")"), "").ok());
  // The credentials themselves refused: unauthorized, and the message keeps them out.
  Status st = auth.OnUnauthorized(Challenge401(R"(Basic realm="Registry")"), "Basic dXNlcjpwdw==");
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition)) << st.ToString();
  EXPECT_NE(st.message().find("unauthorized"), std::string::npos);
  EXPECT_EQ(st.message().find("dXNlcjpwdw"), std::string::npos);
}

TEST(AuthorizerTest, UnauthorizedWithoutCredentialsOrChallenge) {
  Transport transport(NoRetries());
  Authorizer anonymous("reg.test:5000", nullptr, &transport);
  EXPECT_TRUE(anonymous.OnUnauthorized(Challenge401(R"(Basic realm="r")"), "").Is(Errc::kFailedPrecondition));
  Authorizer other_host("other:1", Fixed("u", "p"), &transport);
  EXPECT_TRUE(other_host.OnUnauthorized(Challenge401(R"(Basic realm="r")"), "").Is(Errc::kFailedPrecondition));
  Authorizer with("reg.test:5000", Fixed("u", "p"), &transport);
  EXPECT_TRUE(with.OnUnauthorized(Challenge401(""), "").Is(Errc::kFailedPrecondition));
  EXPECT_TRUE(with.OnUnauthorized(Challenge401("Negotiate"), "").Is(Errc::kFailedPrecondition));
  EXPECT_TRUE(with.OnUnauthorized(Challenge401(R"(Bearer service="no realm")"), "").Is(Errc::kFailedPrecondition));
}

TEST(AuthorizerTest, BearerPreferredAndTokenFetchFailureReported) {
  Transport transport(NoRetries());
  Authorizer auth("reg.test:5000", Fixed("u", "p"), &transport);
  // Both offered: Bearer wins; its realm (nothing listens on port 1) is where the token comes from.
  ASSERT_TRUE(auth.OnUnauthorized(
                      Challenge401(R"(Basic realm="x", Bearer realm="http://127.0.0.1:1/token",service="s")"), "")
                  .ok());
  auto header = auth.Header({PullScope("a")});
  ASSERT_FALSE(header.ok());
  EXPECT_TRUE(header.status().Is(Errc::kUnavailable)) << header.status().ToString();
  EXPECT_NE(header.status().message().find("token for registry reg.test:5000"), std::string::npos)
      << header.status().message();
}

TEST(AuthScopesTest, MergesActionsPerResource) {
  auto s = ParseScopes({"repository:a/b:pull", "repository:a/b:push", "repository:c:pull,push", "registry:catalog:*"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s["repository:a/b"], (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(s["repository:c"], (std::set<std::string>{"pull", "push"}));
  EXPECT_EQ(s["registry:catalog"], (std::set<std::string>{"*"}));
  EXPECT_EQ(PullScope("x/y"), "repository:x/y:pull");
  EXPECT_EQ(PushScope("x/y"), "repository:x/y:pull,push");
}

}  // namespace
}  // namespace berth::remotes
