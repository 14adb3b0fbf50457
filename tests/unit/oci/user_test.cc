// Users and groups resolved from a root filesystem's /etc/passwd and /etc/group.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "oci/env.h"
#include "oci/generate.h"
#include "oci/mount_flag.h"
#include "oci/user.h"

namespace berth::oci {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class UserRootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("berth-oci-user-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "etc");
    std::ofstream(root_ / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                        << "# comment\n"
                                        << "alice:x:1000:1001::/home/alice:/bin/sh\n"
                                        << "bad line\n";
    std::ofstream(root_ / "etc/group") << "root:x:0:\n"
                                       << "wheel:x:10:root,alice\n"
                                       << "alice:x:1001:alice\n"
                                       << "staff:x:50:alice\n";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(UserRootfsTest, NamesAndIds) {
  auto u = ResolveUser("alice", root_);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1001u);
  u = ResolveUser("1000", root_);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->gid, 1001u);
  u = ResolveUser("4242", root_);  // not in passwd: gid 0
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
  u = ResolveUser("alice:staff", root_);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 50u);
  EXPECT_THAT(u->additional_gids, ElementsAre(50u));
  EXPECT_TRUE(ResolveUser("bob", root_).status().Is(Errc::kNotFound));
  EXPECT_TRUE(ResolveUser("alice:nogroup", root_).status().Is(Errc::kNotFound));
}

TEST_F(UserRootfsTest, SupplementaryGroupsAsWithAdditionalGIDs) {
  auto gids = AdditionalGids("1000", 1001, root_);
  ASSERT_TRUE(gids.ok());
  EXPECT_THAT(*gids, ElementsAre(1001u, 10u, 50u));  // not "alice" itself (same name)
  gids = AdditionalGids("root", 0, root_);
  ASSERT_TRUE(gids.ok());
  EXPECT_THAT(*gids, ElementsAre(0u, 10u));
}

TEST_F(UserRootfsTest, ImageUserResolvedThroughRootfs) {
  SpecOptions o;
  o.image = ImageConfig{};
  o.image->user = "alice";
  o.image->cmd = {"sh"};
  o.rootfs = root_;
  auto s = GenerateSpec(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->process.user.uid, 1000u);
  EXPECT_EQ(s->process.user.gid, 1001u);
  EXPECT_THAT(s->process.user.additional_gids, ElementsAre(1001u, 10u, 50u));
}

TEST_F(UserRootfsTest, SymlinkedPasswdStaysInsideTheRoot) {
  fs::remove(root_ / "etc/passwd");
  fs::create_symlink("/../../etc/passwd-elsewhere", root_ / "etc/passwd");
  std::ofstream(root_ / "etc/passwd-elsewhere") << "carol:x:7:7::/:/bin/sh\n";
  auto u = ResolveUser("carol", root_);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->uid, 7u);
}

// An image's /etc/passwd that is a fifo (or a device) is refused, never read: a fifo would block
// the create, /dev/zero would be read until memory runs out. Found by fuzz/oci_spec.
TEST_F(UserRootfsTest, APasswdThatIsNotARegularFileIsRefused) {
  fs::remove(root_ / "etc/passwd");
  ASSERT_EQ(::mkfifo((root_ / "etc/passwd").c_str(), 0644), 0);
  auto u = ResolveUser("alice", root_);
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(u.status().Is(Errc::kInvalidArgument)) << u.status().ToString();
  EXPECT_TRUE(ResolveUser("0:0", root_).ok()) << "numeric ids need no /etc/passwd";
}

TEST(UserEnv, ReplaceOrAppend) {
  EXPECT_THAT(ReplaceOrAppendEnv({"A=1", "B=2", "C=3"}, {"B=20", "D=4", "A"}),
              ElementsAre("B=20", "C=3", "D=4"));
}

TEST(UserMountFlag, ParsesAsCtr) {
  auto m = ParseMountFlag("type=bind,src=/x,dst=/y,options=rbind:ro");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, "bind");
  EXPECT_EQ(m->source, "/x");
  EXPECT_EQ(m->destination, "/y");
  EXPECT_THAT(m->options, ElementsAre("rbind", "ro"));
  m = ParseMountFlag("type=bind,\"source=/a,b\",destination=/c");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->source, "/a,b");
  EXPECT_TRUE(ParseMountFlag("type=bind,foo=bar").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseMountFlag("bind").status().Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::oci
