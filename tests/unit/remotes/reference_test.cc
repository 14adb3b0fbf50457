#include "remotes/reference.h"

#include <gtest/gtest.h>

namespace berth::remotes {
namespace {

struct Case {
  const char* in;
  const char* domain;
  const char* path;
  const char* tag;
  const char* digest;
  const char* string;
};

constexpr const char* kDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ReferenceTest, NormalizesValidReferences) {
  const std::string at = std::string("@") + kDigest;
  const Case cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "", "docker.io/library/busybox:1.36"},
      {"user/app", "docker.io", "user/app", "latest", "", "docker.io/user/app:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "",
       "docker.io/library/busybox:x"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/a/b/c:v_1.0-rc", "localhost:5000", "a/b/c", "v_1.0-rc", "", "localhost:5000/a/b/c:v_1.0-rc"},
      {"127.0.0.1:5000/busybox:v1", "127.0.0.1:5000", "busybox", "v1", "", "127.0.0.1:5000/busybox:v1"},
      {"Registry.Example.com/ns/app", "Registry.Example.com", "ns/app", "latest", "",
       "Registry.Example.com/ns/app:latest"},
      {"example.com/a__b/c-d/e.f/g--h", "example.com", "a__b/c-d/e.f/g--h", "latest", "",
       "example.com/a__b/c-d/e.f/g--h:latest"},
      {"[::1]:5000/app:v", "[::1]:5000", "app", "v", "", "[::1]:5000/app:v"},
  };
  for (const auto& c : cases) {
    auto r = ParseReference(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(r->domain, c.domain) << c.in;
    EXPECT_EQ(r->path, c.path) << c.in;
    EXPECT_EQ(r->tag, c.tag) << c.in;
    EXPECT_EQ(r->digest, c.digest) << c.in;
    EXPECT_EQ(r->String(), c.string) << c.in;
  }
}

TEST(ReferenceTest, Digests) {
  auto r = ParseReference(std::string("127.0.0.1:5000/app@") + kDigest);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tag, "");  // no default tag with a digest
  EXPECT_EQ(r->digest, kDigest);
  EXPECT_EQ(r->Object(), kDigest);
  EXPECT_EQ(r->Repository(), "127.0.0.1:5000/app");
  EXPECT_EQ(r->String(), std::string("127.0.0.1:5000/app@") + kDigest);

  auto both = ParseReference(std::string("busybox:1@") + kDigest);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->tag, "1");
  EXPECT_EQ(both->Object(), kDigest);  // the digest wins
  EXPECT_EQ(both->String(), std::string("docker.io/library/busybox:1@") + kDigest);

  auto tagged = ParseReference("busybox:musl");
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->Object(), "musl");
}

TEST(ReferenceTest, RejectsMalformed) {
  const std::string long_tag(129, 'a');
  const std::string long_name = "example.com/" + std::string(250, 'a');
  const std::string bad[] = {
      "",
      "Busybox",                    // upper case path
      "example.com/Org/app",        // upper case path after a domain
      "busybox:",                   // empty tag
      "busybox:-x",                 // tag must start with a word character
      "busybox:" + long_tag,        // tag too long
      "busybox@sha256:abc",         // short digest
      "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",  // upper hex
      "busybox@md5:0123456789abcdef0123456789abcdef",
      "a//b",
      "a/b/",
      "-a",
      "a..b",
      "a___b",
      "example.com:/app",           // empty port
      "[::1]:/app",                 // empty port after an IPv6 address (found by fuzz/reference)
      "example.com:50a0/app",
      "-bad.com/app",
      long_name,
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",  // a bare id
      "example.com/app:tag:more",
  };
  for (const auto& in : bad) {
    auto r = ParseReference(in);
    EXPECT_FALSE(r.ok()) << "accepted \"" << in << "\" as " << (r.ok() ? r->String() : "");
    if (!r.ok()) {
      EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << in;
      if (!in.empty()) {
        EXPECT_NE(r.status().message().find(in), std::string::npos) << r.status().message();
      }
    }
  }
}

TEST(ReferenceTest, RegistryHost) {
  EXPECT_EQ(RegistryHost("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(RegistryHost("127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(RegistryHost("ghcr.io"), "ghcr.io");
}

}  // namespace
}  // namespace berth::remotes
