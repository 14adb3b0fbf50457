#include "remotes/credentials.h"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

namespace berth::remotes {
namespace {

namespace fs = std::filesystem;

class CredentialsDockerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-remotes-creds-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& json) {
    fs::path p = dir_ / "config.json";
    std::ofstream(p) << json;
    return p;
  }
  fs::path dir_;
};

Credentials Must(const Result<std::optional<Credentials>>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.ok() && r->has_value());
  return r.ok() && r->has_value() ? **r : Credentials{};
}

TEST_F(CredentialsDockerConfigTest, KeyForms) {
  // "dXNlcjE6cGFzczE=" = user1:pass1, "dXNlcjI6cDpx" = user2:p:q (colons in the password)
  auto p = Write(R"({"auths": {
      "127.0.0.1:5000": {"auth": "dXNlcjE6cGFzczE="},
      "https://reg.example.com/v1/": {"auth": "dXNlcjI6cDpx"},
      "http://plain.example.com": {"username": "u3", "password": "p3"},
      "https://index.docker.io/v1/": {"auth": "dXNlcjE6cGFzczE="},
      "tok.example.com": {"auth": "", "identitytoken": "refresh-me"}
  }})");
  auto c1 = Must(DockerConfigCredentials(p, "127.0.0.1:5000"));
  EXPECT_EQ(c1.username, "user1");
  EXPECT_EQ(c1.secret, "pass1");
  auto c2 = Must(DockerConfigCredentials(p, "reg.example.com"));
  EXPECT_EQ(c2.username, "user2");
  EXPECT_EQ(c2.secret, "p:q");
  auto c3 = Must(DockerConfigCredentials(p, "plain.example.com"));
  EXPECT_EQ(c3.username, "u3");
  EXPECT_EQ(c3.secret, "p3");
  for (const char* hub : {"docker.io", "registry-1.docker.io"}) {
    EXPECT_EQ(Must(DockerConfigCredentials(p, hub)).username, "user1") << hub;
  }
  auto c5 = Must(DockerConfigCredentials(p, "tok.example.com"));
  EXPECT_EQ(c5.username, "");
  EXPECT_EQ(c5.secret, "refresh-me");

  auto none = DockerConfigCredentials(p, "other.example.com");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto port = DockerConfigCredentials(p, "127.0.0.1:5001");  // another port is another host
  ASSERT_TRUE(port.ok());
  EXPECT_FALSE(port->has_value());
}

TEST_F(CredentialsDockerConfigTest, MissingFileOrHostIsAnonymous) {
  auto r = DockerConfigCredentials(dir_ / "absent.json", "127.0.0.1:5000");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
  auto p = Write(R"({"credsStore": "desktop"})");
  auto s = DockerConfigCredentials(p, "127.0.0.1:5000");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
}

TEST_F(CredentialsDockerConfigTest, InvalidJsonOrAuth) {
  auto bad = DockerConfigCredentials(Write("{not json"), "h");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument));

  auto p = Write(R"({"auths": {"h": {"auth": "!!!secret!!!"}, "k": {"auth": "bm9jb2xvbg=="}}})");
  auto b64 = DockerConfigCredentials(p, "h");
  ASSERT_FALSE(b64.ok());
  EXPECT_TRUE(b64.status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(b64.status().message().find("secret"), std::string::npos) << "the secret must not be echoed";
  auto nocolon = DockerConfigCredentials(p, "k");  // "nocolon"
  EXPECT_TRUE(nocolon.status().Is(Errc::kInvalidArgument));
}

TEST(CredentialsUserFlagTest, Parses) {
  auto a = ParseUserFlag("alice:s3:cr:et");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->secret, "s3:cr:et");
  auto b = ParseUserFlag("bob");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->username, "bob");
  EXPECT_EQ(b->secret, "");
  EXPECT_TRUE(ParseUserFlag("").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseUserFlag(":pw").status().Is(Errc::kInvalidArgument));
}

TEST(CredentialsDefaultDockerConfigPathTest, Environment) {
  const char* old_dc = getenv("DOCKER_CONFIG");
  std::string saved_dc = old_dc ? old_dc : "";
  const char* old_home = getenv("HOME");
  std::string saved_home = old_home ? old_home : "";

  setenv("DOCKER_CONFIG", "/etc/dc", 1);
  EXPECT_EQ(DefaultDockerConfigPath(), fs::path("/etc/dc/config.json"));
  unsetenv("DOCKER_CONFIG");
  setenv("HOME", "/home/zed", 1);
  EXPECT_EQ(DefaultDockerConfigPath(), fs::path("/home/zed/.docker/config.json"));

  if (old_dc) setenv("DOCKER_CONFIG", saved_dc.c_str(), 1);
  if (old_home) setenv("HOME", saved_home.c_str(), 1); else unsetenv("HOME");
}

}  // namespace
}  // namespace berth::remotes
