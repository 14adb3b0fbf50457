#include "shim/flags.h"

#include <gtest/gtest.h>

namespace berth::shim {
namespace {

TEST(FlagsTest, ContainerdStartCommandLine) {
  auto f = ParseFlags({"-namespace", "default", "-address", "/run/containerd/containerd.sock", "-publish-binary",
                       "/usr/bin/containerd", "-id", "t1", "-debug", "start"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->ns, "default");
  EXPECT_EQ(f->address, "/run/containerd/containerd.sock");
  EXPECT_EQ(f->publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(f->id, "t1");
  EXPECT_TRUE(f->debug);
  EXPECT_EQ(f->action, "start");
}

TEST(FlagsTest, DoubleDashEqualsAndServe) {
  auto f = ParseFlags({"--namespace=ns", "--id", "x", "-bundle=/b", "-debug=false"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->ns, "ns");
  EXPECT_EQ(f->id, "x");
  EXPECT_EQ(f->bundle, "/b");
  EXPECT_FALSE(f->debug);
  EXPECT_EQ(f->action, "");  // serve
}

TEST(FlagsTest, Errors) {
  EXPECT_TRUE(ParseFlags({"-bogus", "1"}).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"-id"}).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"-debug=maybe"}).status().Is(Errc::kInvalidArgument));
}

TEST(FlagsTest, StopsAtTheAction) {
  auto f = ParseFlags({"-id", "a", "delete", "-id", "b"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, "a");
  EXPECT_EQ(f->action, "delete");
}

}  // namespace
}  // namespace berth::shim
