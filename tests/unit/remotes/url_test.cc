#include <gtest/gtest.h>

#include "remotes/http.h"
#include "remotes/scheme.h"

namespace berth::remotes {
namespace {

TEST(UrlTest, RedactDropsUserInfoQueryAndFragment) {
  EXPECT_EQ(RedactUrl("https://reg.test/v2/a/blobs/uploads/u1?_state=SECRET&digest=sha256:x"),
            "https://reg.test/v2/a/blobs/uploads/u1");
  EXPECT_EQ(RedactUrl("https://user:pw@storage.test:8443/b/k?X-Amz-Signature=SIG#frag"),
            "https://storage.test:8443/b/k");
  EXPECT_EQ(RedactUrl("http://user@host"), "http://host");
  EXPECT_EQ(RedactUrl("/v2/a/blobs/uploads/u1?_state=SECRET"), "/v2/a/blobs/uploads/u1");
  // An '@' in the path is no user info.
  EXPECT_EQ(RedactUrl("https://host/a@b?q"), "https://host/a@b");
  EXPECT_EQ(RedactUrl("https://host/v2/"), "https://host/v2/");
}

TEST(UrlTest, OriginIsSchemeHostAndPortOnly) {
  EXPECT_EQ(UrlOrigin("HTTPS://Reg.Test:5000/v2/?q=1"), "https://reg.test:5000");
  EXPECT_EQ(UrlOrigin("https://user:pw@reg.test/v2/"), "https://reg.test");
  // The scheme's default port is no different origin.
  EXPECT_EQ(UrlOrigin("https://reg.test:443/v2/"), UrlOrigin("https://reg.test/x"));
  EXPECT_EQ(UrlOrigin("http://reg.test:80"), "http://reg.test");
  EXPECT_NE(UrlOrigin("http://reg.test:443/"), UrlOrigin("https://reg.test/"));
  EXPECT_NE(UrlOrigin("http://127.0.0.1:5000/"), UrlOrigin("http://127.0.0.1:5001/"));
  EXPECT_EQ(UrlOrigin("/relative"), "");
}

TEST(UrlSchemeTest, LoopbackHostsAsContainerdSeesThem) {
  for (const char* h : {"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000", "127.1.2.3:80", "[::1]:5000",
                        "::1", "[::ffff:127.0.0.1]:5000"}) {
    EXPECT_TRUE(IsLocalhost(h)) << h;
  }
  for (const char* h : {"docker.io", "registry.local:5000", "128.0.0.1:5000", "10.0.0.1", "[::2]:5000",
                        "localhost.example.com", "127.0.0.1.nip.io:5000", "",
                        "[::1]"}) {  // brackets without a port: not an address to Go's SplitHostPort
    EXPECT_FALSE(IsLocalhost(h)) << h;
  }
}

TEST(UrlSchemeTest, LoopbackGetsPlainHttpWithoutTheFlag) {
  RegistryOptions o;
  EXPECT_EQ(RegistryScheme("127.0.0.1:5000", o), "http");
  EXPECT_EQ(RegistryScheme("localhost:5000", o), "http");
  EXPECT_EQ(RegistryScheme("[::1]:5000", o), "http");
  EXPECT_EQ(RegistryScheme("registry.test:5000", o), "https");
  EXPECT_EQ(RegistryScheme("docker.io", o), "https");
  o.plain_http = true;
  EXPECT_EQ(RegistryScheme("registry.test:5000", o), "http");
  o.plain_http = false;
  o.loopback_https = true;
  EXPECT_EQ(RegistryScheme("127.0.0.1:5000", o), "https");
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
