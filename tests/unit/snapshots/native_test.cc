// The native snapshotter: children are full copies of their parents, metadata and all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mount/scoped_mount.h"
#include "snapshots/disk_usage.h"
#include "snapshots/native.h"
#include "snapshots_test_fixture.h"

namespace berth::snapshots {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class NativeTest : public SnapshotterTest {
 protected:
  void SetUp() override {
    SnapshotterTest::SetUp();
    auto sn = NativeSnapshotter::Open(*db_, dir_ / "native");
    ASSERT_TRUE(sn.ok()) << sn.status().ToString();
    sn_ = std::move(*sn);
  }
  void TearDown() override {
    sn_.reset();
    SnapshotterTest::TearDown();
  }
  fs::path Dir(int id) const { return sn_->root() / "snapshots" / std::to_string(id); }
  std::unique_ptr<NativeSnapshotter> sn_;
};

struct stat Lstat(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TEST_F(NativeTest, ChildIsAFaithfulCopy) {
  auto m1 = sn_->Prepare("ns", "K1", "", {});
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  EXPECT_EQ((*m1)[0], (mount::Mount{"bind", Dir(1).string(), {"rbind", "rw"}}));
  {
    auto m = mount::ScopedMount::Create(*m1, dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const fs::path r = m->path();
    fs::create_directories(r / "etc" / "sub");
    WriteFile(r / "etc" / "file", "content");
    ASSERT_EQ(::chown((r / "etc" / "file").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chmod((r / "etc" / "file").c_str(), 04751), 0);
    ASSERT_EQ(::setxattr((r / "etc" / "file").c_str(), "user.berth", "v", 1, 0), 0);
    ASSERT_EQ(::link((r / "etc" / "file").c_str(), (r / "hard").c_str()), 0);
    ASSERT_EQ(::symlink("etc/file", (r / "sym").c_str()), 0);
    ASSERT_EQ(::mknod((r / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mkfifo((r / "fifo").c_str(), 0640), 0);
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 5}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (r / "etc" / "file").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (r / "etc").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }
  ASSERT_TRUE(sn_->Commit("ns", "C1", "K1", {}).ok());
  auto m2 = sn_->Prepare("ns", "K2", "C1", {});
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ((*m2)[0].source, Dir(2).string());

  const fs::path c = Dir(2);
  struct stat f = Lstat(c / "etc" / "file");
  EXPECT_EQ(f.st_uid, 1234u);
  EXPECT_EQ(f.st_gid, 5678u);
  EXPECT_EQ(f.st_mode & 07777, 04751u);
  EXPECT_EQ(f.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(f.st_mtim.tv_nsec, 5);
  EXPECT_EQ(f.st_nlink, 2u);
  EXPECT_EQ(Lstat(c / "hard").st_ino, f.st_ino) << "hard links stay linked";
  EXPECT_EQ(Lstat(c / "etc").st_mtim.tv_sec, 1234567890) << "directory times set after their children";
  char value[8] = {};
  EXPECT_EQ(::getxattr((c / "etc" / "file").c_str(), "user.berth", value, sizeof value), 1);
  EXPECT_EQ(std::string(value), "v");
  EXPECT_EQ(fs::read_symlink(c / "sym"), "etc/file");
  struct stat dev = Lstat(c / "null");
  EXPECT_TRUE(S_ISCHR(dev.st_mode));
  EXPECT_EQ(dev.st_rdev, makedev(1, 3));
  EXPECT_TRUE(S_ISFIFO(Lstat(c / "fifo").st_mode));
  EXPECT_EQ(ReadFile(c / "etc" / "file"), "content");
  EXPECT_EQ(Lstat(c).st_mode & 07777, Lstat(Dir(1)).st_mode & 07777);

  // Changing the child leaves the parent alone.
  WriteFile(c / "etc" / "file", "changed");
  EXPECT_EQ(ReadFile(Dir(1) / "etc" / "file"), "content");
}

TEST_F(NativeTest, ViewsBindTheParentReadOnly) {
  ASSERT_TRUE(sn_->Prepare("ns", "K1", "", {}).ok());
  WriteFile(Dir(1) / "a", "a");
  ASSERT_TRUE(sn_->Commit("ns", "C1", "K1", {}).ok());
  auto v = sn_->View("ns", "V1", "C1", {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)[0], (mount::Mount{"bind", Dir(1).string(), {"rbind", "ro"}}));
  EXPECT_FALSE(fs::exists(Dir(2))) << "a view of a parent copies nothing";
  {
    auto m = mount::ScopedMount::Create(*v, dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(ReadFile(m->path() / "a"), "a");
    int fd = ::open((m->path() / "b").c_str(), O_CREAT | O_WRONLY, 0644);
    EXPECT_LT(fd, 0);
    EXPECT_EQ(errno, EROFS);
    if (fd >= 0) ::close(fd);
  }
  ASSERT_TRUE(sn_->Remove("ns", "V1").ok());
  EXPECT_TRUE(fs::exists(Dir(1) / "a")) << "removing the view leaves its parent";
}

TEST(NativeDiskUsageTest, CountsHardLinksOnce) {
  std::string tmpl = (fs::temp_directory_path() / "berth-du-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  fs::path d = tmpl;
  { std::ofstream(d / "f") << std::string(8192, 'a'); }
  ASSERT_EQ(::link((d / "f").c_str(), (d / "g").c_str()), 0);
  fs::create_directory(d / "sub");
  auto u = MeasureDiskUsage(d);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->inodes, 3);  // root, f (= g), sub
  struct stat st{};
  ASSERT_EQ(::stat((d / "f").c_str(), &st), 0);
  struct stat root{}, sub{};
  ::stat(d.c_str(), &root);
  ::stat((d / "sub").c_str(), &sub);
  EXPECT_EQ(u->size, (st.st_blocks + root.st_blocks + sub.st_blocks) * 512);
  fs::remove_all(d);
}

}  // namespace
}  // namespace berth::snapshots
