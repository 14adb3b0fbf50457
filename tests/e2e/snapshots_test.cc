// Snapshots with the real ctr: prepare, mount what `ctr snapshots mounts` prints, commit,
// stack, inspect (ls, info, tree, usage, label), views, removal rules, for both the
// overlayfs and the native snapshotter; leases and GC through the API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "github.com/containerd/containerd/api/services/snapshots/v1/snapshots.grpc.pb.h"
#include "harness.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
namespace snapshotsapi = containerd::services::snapshots::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// Mount points under `dir` in /proc/self/mountinfo (the test runs in berthd's mount namespace).
class SnapshotsE2E : public BerthdTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void TearDown() override {
    fs::path root = dir_ ? dir_->path() : fs::path();
    BerthdTest::TearDown();
    if (!root.empty()) {
      EXPECT_THAT(MountsUnder(root), ::testing::IsEmpty()) << "mounts left behind";
    }
  }
  // `ctr snapshots --snapshotter <param> args...`
  CommandResult Snap(std::vector<std::string> args) const {
    args.insert(args.begin(), {"snapshots", "--snapshotter", GetParam()});
    return daemon_->Ctr(args);
  }
  // Runs the mount commands ctr printed for `key` on `target`.
  void MountWithCtr(const std::string& key, const fs::path& target) {
    fs::create_directories(target);
    auto r = Snap({"mounts", target.string(), key});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    ASSERT_THAT(r.out, HasSubstr("mount -t "));
    auto m = e2e::Run({"sh", "-c", r.out});
    ASSERT_EQ(m.exit_code, 0) << "running `" << r.out << "`: " << Describe(m);
  }
  void Unmount(const fs::path& target) {
    auto u = e2e::Run({"umount", target.string()});
    ASSERT_EQ(u.exit_code, 0) << Describe(u);
  }
  fs::path SnapshotsDir() const { return daemon_->root() / "snapshots" / GetParam() / "snapshots"; }
  size_t DirCount() const {
    size_t n = 0;
    for (auto it = fs::directory_iterator(SnapshotsDir()); it != fs::directory_iterator(); ++it) ++n;
    return n;
  }
};

TEST_P(SnapshotsE2E, CtrDrivesTheWholeLifecycle) {
  const fs::path mnt = dir_->path() / "mnt";
  auto r = Snap({"prepare", "K1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();

  MountWithCtr("K1", mnt);
  { std::ofstream(mnt / "hello.txt") << "from K1"; }
  Unmount(mnt);

  r = Snap({"commit", "C1", "K1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap({"prepare", "K2", "C1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // The child sees the parent's file and writes its own.
  MountWithCtr("K2", mnt);
  EXPECT_EQ(ReadFile(mnt / "hello.txt"), "from K1");
  { std::ofstream(mnt / "second.txt") << "from K2"; }
  Unmount(mnt);

  r = Snap({"ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("KEY"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("C1 +Committed"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("K2 +C1 +Active"));
  EXPECT_THAT(r.out, Not(HasSubstr("K1")));

  r = Snap({"info", "C1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"Name\": \"C1\""));
  EXPECT_THAT(r.out, HasSubstr("\"Kind\": \"Committed\""));
  EXPECT_THAT(r.out, HasSubstr("containerd.io/gc.root"));

  r = Snap({"tree"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ::testing::ContainsRegex("C1\n +\\\\_ K2"));

  r = Snap({"usage", "-b"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ::testing::ContainsRegex("K2 +[1-9][0-9]* +[1-9]"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("C1 +[1-9][0-9]* +[1-9]"));

  r = Snap({"label", "C1", "team=berth"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("team=berth"));
  r = Snap({"info", "C1"});
  EXPECT_THAT(r.out, HasSubstr("\"team\": \"berth\""));

  // Rules: a taken key, a parent with children, a view of an active snapshot.
  r = Snap({"prepare", "K2", "C1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  r = Snap({"rm", "C1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("cannot remove snapshot with child"));
  r = Snap({"view", "V0", "K2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("is not committed snapshot"));

  // A read-only view of C1.
  r = Snap({"view", "V1", "C1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap({"info", "V1"});
  EXPECT_THAT(r.out, HasSubstr("\"Kind\": \"View\""));
  MountWithCtr("V1", mnt);
  EXPECT_EQ(ReadFile(mnt / "hello.txt"), "from K1");
  EXPECT_FALSE(fs::exists(mnt / "second.txt"));
  EXPECT_NE(e2e::Run({"touch", (mnt / "x").string()}).exit_code, 0) << "a view is read-only";
  Unmount(mnt);

  r = Snap({"rm", "V1", "K2", "C1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Snap({"ls"});
  EXPECT_THAT(r.out, Not(HasSubstr("C1")));
  EXPECT_EQ(DirCount(), 0u) << "directories removed with their snapshots";
  r = Snap({"info", "C1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not found"));
}

TEST_P(SnapshotsE2E, NamespacesSeparateKeysAndHoldTheirNamespace) {
  ASSERT_EQ(daemon_->Ctr({"-n", "a", "snapshots", "--snapshotter", GetParam(), "prepare", "K"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"-n", "b", "snapshots", "--snapshotter", GetParam(), "prepare", "K"}).exit_code, 0);
  auto r = daemon_->Ctr({"namespaces", "rm", "a"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("snapshots on \"" + GetParam() + "\" snapshotter"));
  ASSERT_EQ(daemon_->Ctr({"-n", "a", "snapshots", "--snapshotter", GetParam(), "rm", "K"}).exit_code, 0);
  EXPECT_EQ(daemon_->Ctr({"namespaces", "rm", "a"}).exit_code, 0);
  r = daemon_->Ctr({"-n", "b", "snapshots", "--snapshotter", GetParam(), "ls"});
  EXPECT_THAT(r.out, HasSubstr("K"));
}

INSTANTIATE_TEST_SUITE_P(Snapshotters, SnapshotsE2E, ::testing::Values("overlayfs", "native"));

// Through the API: leases hold snapshots; GC removes the ones nothing references.
class SnapshotsGcE2E : public BerthdTest {
 protected:
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel("unix:" + daemon_->socket().string(), grpc::InsecureChannelCredentials());
  }
  static void Headers(grpc::ClientContext& ctx, const std::string& lease) {
    ctx.AddMetadata("containerd-namespace", "default");
    if (!lease.empty()) ctx.AddMetadata("containerd-lease", lease);
  }
  grpc::Status Prepare(const std::string& key, const std::string& lease) const {
    auto stub = snapshotsapi::Snapshots::NewStub(Channel());
    grpc::ClientContext ctx;
    Headers(ctx, lease);
    snapshotsapi::PrepareSnapshotRequest req;
    req.set_snapshotter("overlayfs");
    req.set_key(key);
    snapshotsapi::PrepareSnapshotResponse resp;
    return stub->Prepare(&ctx, req, &resp);
  }
  grpc::Status Commit(const std::string& name, const std::string& key, const std::string& lease) const {
    auto stub = snapshotsapi::Snapshots::NewStub(Channel());
    grpc::ClientContext ctx;
    Headers(ctx, lease);
    snapshotsapi::CommitSnapshotRequest req;
    req.set_snapshotter("overlayfs");
    req.set_name(name);
    req.set_key(key);
    google::protobuf::Empty resp;
    return stub->Commit(&ctx, req, &resp);
  }
  std::string Ls() const { return daemon_->Ctr({"snapshots", "ls"}).out; }
};

TEST_F(SnapshotsGcE2E, LeaseAndImageReferencesKeepSnapshotsUntilTheyGo) {
  ASSERT_EQ(daemon_->Ctr({"leases", "create", "--id", "L1"}).exit_code, 0);
  ASSERT_EQ(daemon_->Ctr({"leases", "create", "--id", "L2"}).exit_code, 0);
  grpc::Status st = Prepare("work", "L1");
  ASSERT_TRUE(st.ok()) << st.error_message();
  st = Commit("layer", "work", "L1");
  ASSERT_TRUE(st.ok()) << st.error_message();
  st = Prepare("scratch", "L2");
  ASSERT_TRUE(st.ok()) << st.error_message();
  st = Prepare("nolease", "missing-lease");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();

  // An image pointing at "layer" through a gc.ref label.
  {
    auto stub = containerd::services::images::v1::Images::NewStub(Channel());
    grpc::ClientContext ctx;
    Headers(ctx, "");
    containerd::services::images::v1::CreateImageRequest req;
    auto* image = req.mutable_image();
    image->set_name("img");
    (*image->mutable_labels())["containerd.io/gc.ref.snapshot.overlayfs"] = "layer";
    image->mutable_target()->set_media_type("application/vnd.oci.image.manifest.v1+json");
    image->mutable_target()->set_digest("sha256:" + std::string(64, '0'));
    image->mutable_target()->set_size(1);
    containerd::services::images::v1::CreateImageResponse resp;
    st = stub->Create(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_THAT(Ls(), HasSubstr("layer"));
  EXPECT_THAT(Ls(), HasSubstr("scratch"));

  // L2 held only "scratch": gone with it.
  ASSERT_EQ(daemon_->Ctr({"leases", "rm", "--sync", "L2"}).exit_code, 0);
  EXPECT_THAT(Ls(), Not(HasSubstr("scratch")));
  // L1 held "layer", but so does the image.
  ASSERT_EQ(daemon_->Ctr({"leases", "rm", "--sync", "L1"}).exit_code, 0);
  EXPECT_THAT(Ls(), HasSubstr("layer"));
  fs::path dirs = daemon_->root() / "snapshots" / "overlayfs" / "snapshots";
  EXPECT_TRUE(fs::exists(dirs / "1"));
  // The image goes: nothing references "layer" any more.
  auto r = daemon_->Ctr({"images", "rm", "--sync", "img"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Ls(), Not(HasSubstr("layer")));
  EXPECT_TRUE(fs::is_empty(dirs)) << "snapshot directories collected";
}

TEST_F(SnapshotsGcE2E, UnknownSnapshotterIsInvalidArgument) {
  auto r = daemon_->Ctr({"snapshots", "--snapshotter", "zfs", "ls"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("snapshotter not loaded: zfs"));
  r = daemon_->Ctr({"plugins", "ls"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("io.containerd.snapshotter.v1 +overlayfs +linux/amd64 +ok"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("io.containerd.snapshotter.v1 +native +linux/amd64 +ok"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("io.containerd.grpc.v1 +snapshots +- +ok"));
}

}  // namespace
}  // namespace berth::e2e
