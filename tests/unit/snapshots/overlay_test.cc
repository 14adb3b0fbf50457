// The overlayfs snapshotter on a real directory with real mounts (the tests run as root).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "metadata/gc.h"
#include "mount/scoped_mount.h"
#include "snapshots/overlay.h"
#include "snapshots_test_fixture.h"

namespace berth::snapshots {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class OverlayTest : public SnapshotterTest {
 protected:
  void SetUp() override {
    SnapshotterTest::SetUp();
    auto sn = OverlaySnapshotter::Open(*db_, dir_ / "overlayfs");
    ASSERT_TRUE(sn.ok()) << sn.status().ToString();
    sn_ = std::move(*sn);
  }
  void TearDown() override {
    sn_.reset();
    SnapshotterTest::TearDown();
  }
  std::vector<std::string> Dirs() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(sn_->root() / "snapshots")) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::unique_ptr<OverlaySnapshotter> sn_;
};

TEST_F(OverlayTest, LayersStackThroughOverlayMounts) {
  auto m1 = sn_->Prepare("ns", "K1", "", {});
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  ASSERT_EQ(m1->size(), 1u);
  EXPECT_EQ((*m1)[0].type, "bind");
  EXPECT_EQ((*m1)[0].source, sn_->UpperDir(1).string());
  EXPECT_THAT((*m1)[0].options, ElementsAre("rw", "rbind"));
  {
    auto m = mount::ScopedMount::Create(*m1, dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    WriteFile(m->path() / "base.txt", "base");
    ASSERT_TRUE(m->Release().ok());
  }
  ASSERT_TRUE(sn_->Commit("ns", "C1", "K1", {}).ok());

  auto m2 = sn_->Prepare("ns", "K2", "C1", {});
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  ASSERT_EQ(m2->size(), 1u);
  EXPECT_EQ((*m2)[0].type, "overlay");
  EXPECT_THAT((*m2)[0].options, ::testing::Contains("lowerdir=" + sn_->UpperDir(1).string()));
  EXPECT_THAT((*m2)[0].options, ::testing::Contains("upperdir=" + sn_->UpperDir(2).string()));
  EXPECT_THAT((*m2)[0].options, ::testing::Contains("workdir=" + sn_->WorkDir(2).string()));
  {
    auto m = mount::ScopedMount::Create(*m2, dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(ReadFile(m->path() / "base.txt"), "base");
    WriteFile(m->path() / "top.txt", std::string(10000, 'x'));
  }
  EXPECT_TRUE(fs::exists(sn_->UpperDir(2) / "top.txt"));
  EXPECT_FALSE(fs::exists(sn_->UpperDir(2) / "base.txt"));
  auto usage = sn_->Usage("ns", "K2");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->inodes, 2);  // fs/ and top.txt
  EXPECT_GE(usage->size, 10000);
  ASSERT_TRUE(sn_->Commit("ns", "C2", "K2", {}).ok());
  auto committed = sn_->Usage("ns", "C2");
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->inodes, usage->inodes) << "recorded at commit";

  // A view of one layer is a read-only bind of it; of two, a lowerdir-only overlay.
  auto v1 = sn_->View("ns", "V1", "C1", {});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ((*v1)[0], (mount::Mount{"bind", sn_->UpperDir(1).string(), {"ro", "rbind"}}));
  auto v2 = sn_->View("ns", "V2", "C2", {});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)[0].type, "overlay");
  EXPECT_THAT((*v2)[0].options, ::testing::Contains(
      "lowerdir=" + sn_->UpperDir(2).string() + ":" + sn_->UpperDir(1).string()));
  {
    auto m = mount::ScopedMount::Create(*v2, dir_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(ReadFile(m->path() / "base.txt"), "base");
    EXPECT_EQ(ReadFile(m->path() / "top.txt").size(), 10000u);
  }
  auto mounts = sn_->Mounts("ns", "V2");
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(*mounts, *v2);
  auto of_committed = sn_->Mounts("ns", "C1");
  EXPECT_TRUE(of_committed.status().Is(Errc::kFailedPrecondition));
}

TEST_F(OverlayTest, RemoveDeletesTheDirectoryAndRefusesParents) {
  ASSERT_TRUE(sn_->Prepare("ns", "K1", "", {}).ok());
  ASSERT_TRUE(sn_->Commit("ns", "C1", "K1", {}).ok());
  ASSERT_TRUE(sn_->Prepare("ns", "K2", "C1", {}).ok());
  EXPECT_THAT(Dirs(), ElementsAre("1", "2"));
  Status busy = sn_->Remove("ns", "C1");
  EXPECT_TRUE(busy.Is(Errc::kFailedPrecondition)) << busy.ToString();
  ASSERT_TRUE(sn_->Remove("ns", "K2").ok());
  EXPECT_THAT(Dirs(), ElementsAre("1"));
  ASSERT_TRUE(sn_->Remove("ns", "C1").ok());
  EXPECT_TRUE(Dirs().empty());
  EXPECT_TRUE(sn_->Remove("ns", "C1").Is(Errc::kNotFound));
}

TEST_F(OverlayTest, CleanupRemovesWhatCrashesLeave) {
  ASSERT_TRUE(sn_->Prepare("ns", "K1", "", {}).ok());
  fs::create_directories(sn_->root() / "snapshots" / "new-77" / "fs");
  fs::create_directories(sn_->root() / "snapshots" / "rm-5" / "fs");
  fs::create_directories(sn_->root() / "snapshots" / "99" / "fs");
  ASSERT_TRUE(sn_->Cleanup().ok());
  EXPECT_THAT(Dirs(), ElementsAre("1"));
}

TEST_F(OverlayTest, GcSweepsUnreachableSnapshots) {
  ASSERT_TRUE(sn_->Prepare("ns", "K1", "", {}).ok());
  ASSERT_TRUE(sn_->Commit("ns", "C1", "K1", {.labels = {{"containerd.io/gc.root", "now"}}}).ok());
  ASSERT_TRUE(sn_->Prepare("ns", "K2", "C1", {}).ok());
  ASSERT_TRUE(sn_->Commit("ns", "C2", "K2", {}).ok());
  ASSERT_TRUE(sn_->Prepare("ns", "orphan", "", {}).ok());
  // Nothing holds C2 or orphan; C1 is a root.
  metadata::GarbageCollection gc(*db_, {});
  gc.AddSnapshotter("overlayfs", sn_.get());
  auto stats = gc.Collect(Clock::now());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->snapshots_removed, 2u);
  EXPECT_TRUE(sn_->Stat("ns", "C1").ok());
  EXPECT_TRUE(sn_->Stat("ns", "C2").status().Is(Errc::kNotFound));
  EXPECT_THAT(Dirs(), ElementsAre("1"));
}

TEST_F(OverlayTest, WalkFiltersAndUpdateLabels) {
  ASSERT_TRUE(sn_->Prepare("ns", "K1", "", {.labels = {{"x", "1"}}}).ok());
  ASSERT_TRUE(sn_->Prepare("ns", "K2", "", {}).ok());
  auto info = sn_->Update("ns", Info{.name = "K2", .labels = {{"x", "2"}}}, {"labels.x"});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels.at("x"), "2");
  std::vector<std::string> seen;
  ASSERT_TRUE(sn_->Walk("ns", {"labels.x==2"}, [&](const Info& i) {
    seen.push_back(i.name);
    return Status::Ok();
  }).ok());
  EXPECT_THAT(seen, ElementsAre("K2"));
  EXPECT_TRUE(sn_->Walk("ns", {"labels.x=="}, [](const Info&) { return Status::Ok(); }).Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::snapshots
