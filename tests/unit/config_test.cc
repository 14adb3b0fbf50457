#include "server/config.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

TEST(ConfigTest, DefaultsAreContainerdLike) {
  Config c;
  EXPECT_EQ(c.root, "/var/lib/berth");
  EXPECT_EQ(c.state, "/run/berth");
  EXPECT_EQ(c.address, "/run/berth/berth.sock");
  ASSERT_TRUE(Validate(c).ok());
}

TEST(ConfigTest, ParsesAllKeys) {
  auto c = ParseConfig(R"(
version = 1
root = "/tmp/r"
state = "/tmp/s"
instance_id = "node-1"
[grpc]
address = "unix:///tmp/b.sock"
max_recv_message_size = 1024
[debug]
level = "debug"
)", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->root, "/tmp/r");
  EXPECT_EQ(c->instance_id, "node-1");
  EXPECT_EQ(c->max_recv_message_size, 1024);
  EXPECT_EQ(c->log_level, "debug");
  ASSERT_TRUE(Validate(*c).ok());
  EXPECT_EQ(c->address, "/tmp/b.sock");
}

TEST(ConfigTest, RejectsUnknownKeysAndBadTypes) {
  auto c = ParseConfig("rot = \"/x\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(c.status().message().find("unknown key \"rot\""), std::string::npos);

  c = ParseConfig("[grpc]\naddress = 5\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("address must be a string"), std::string::npos);

  c = ParseConfig("root = \n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("t.toml:1"), std::string::npos);
}

TEST(ConfigTest, ValidateCatchesBadValues) {
  Config c;
  c.state = c.root;
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.address = "/" + std::string(200, 'x');
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.instance_id = "bad id";
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.root = "relative/dir";
  ASSERT_TRUE(Validate(c).ok());
  EXPECT_TRUE(c.root.is_absolute());
}

}  // namespace
}  // namespace berth::server
