// Image pull and unpack acceptance with the real ctr and a registry on loopback: the image
// is complete, its layer chain committed, a snapshot on top shows the files with whiteouts
// and opaque directories applied, the unpacked tree is identical to what containerd 1.6
// makes of the same image, and removing the image collects every blob and snapshot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "containerd_daemon.h"
#include "harness.h"
#include "registry.h"
#include "tree_listing.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// key -> parent, from `ctr snapshots ls` (KEY PARENT KIND columns).
std::map<std::string, std::string> SnapshotParents(const std::string& ls_output) {
  std::map<std::string, std::string> out;
  std::istringstream in(ls_output);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> cols;
    for (std::string c; f >> c;) cols.push_back(c);
    if (cols.size() == 3) out[cols[0]] = cols[1];
    if (cols.size() == 2) out[cols[0]] = "";
  }
  return out;
}

// The one snapshot nothing has as its parent (the image's top layer); "" if not exactly one.
std::string TopOfChain(const std::map<std::string, std::string>& parents) {
  std::vector<std::string> tops;
  for (const auto& [key, parent] : parents) {
    bool is_parent = false;
    for (const auto& [k, p] : parents) is_parent = is_parent || p == key;
    if (!is_parent) tops.push_back(key);
  }
  return tops.size() == 1 ? tops[0] : "";
}

size_t EntriesIn(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// Mounts what `ctr snapshots mounts TARGET KEY` prints; unmounts on destruction.
class CtrMount {
 public:
  CtrMount(const std::vector<std::string>& ctr_argv_prefix, const std::string& snapshotter, const fs::path& target,
           const std::string& key)
      : target_(target) {
    fs::create_directories(target);
    std::vector<std::string> argv = ctr_argv_prefix;
    argv.insert(argv.end(), {"snapshots", "--snapshotter", snapshotter, "mounts", target.string(), key});
    auto r = Run(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("mount -t "));
    if (r.exit_code != 0) return;
    auto m = Run({"sh", "-c", r.out});
    EXPECT_EQ(m.exit_code, 0) << "running `" << r.out << "`: " << Describe(m);
    mounted_ = m.exit_code == 0;
  }
  ~CtrMount() {
    if (mounted_) Run({"umount", target_.string()});
  }
  CtrMount(const CtrMount&) = delete;
  CtrMount& operator=(const CtrMount&) = delete;
  bool ok() const { return mounted_; }

 private:
  fs::path target_;
  bool mounted_ = false;
};

class ImagePullE2E : public BerthdTest {
 protected:
  void SetUp() override {
    BerthdTest::SetUp();
    MkimageOptions opts;
    opts.layers = 2;
    opts.whiteout_test = true;
    opts.special_files = true;
    layout_ = BuildTestImage(dir_->path() / "layout", opts);
    ASSERT_FALSE(layout_.empty());
    registry_ = TestRegistry::Start(dir_->path() / "registry");
    ASSERT_NE(registry_, nullptr);
    std::string err;
    ASSERT_TRUE(registry_->Push(layout_, "latest", "berth/unpack:1", &err)) << err;
    ref_ = registry_->Ref("berth/unpack:1");
  }
  void TearDown() override {
    registry_.reset();
    fs::path root = dir_ ? dir_->path() : fs::path();
    BerthdTest::TearDown();
    if (!root.empty()) {
      EXPECT_THAT(MountsUnder(root), IsEmpty()) << "mounts left behind";
    }
  }
  std::vector<std::string> BerthCtr() const { return daemon_->CtrArgv({}); }

  fs::path layout_;
  std::unique_ptr<TestRegistry> registry_;
  std::string ref_;
};

TEST_F(ImagePullE2E, PullUnpacksAppliesWhiteoutsAndGcCollectsEverything) {
  auto r = daemon_->Ctr({"images", "pull", "--plain-http", ref_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_THAT(r.out, HasSubstr("unpacking linux/"));

  r = daemon_->Ctr({"images", "check"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("complete (6/6)"));  // config and 5 layers

  // base, layer 2, two whiteout layers, special files: one committed chain of five.
  r = daemon_->Ctr({"snapshots", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto parents = SnapshotParents(r.out);
  ASSERT_EQ(parents.size(), 5u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 6) << r.out;
  EXPECT_EQ(Count(r.out, "Committed"), 5u) << r.out;
  const std::string top = TopOfChain(parents);
  ASSERT_FALSE(top.empty()) << r.out;
  size_t depth = 0;
  for (std::string k = top; !k.empty(); k = parents[k]) ++depth;
  EXPECT_EQ(depth, 5u) << "one chain from the top to the base layer\n" << r.out;

  r = daemon_->Ctr({"snapshots", "prepare", "probe", top});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const fs::path mnt = dir_->path() / "mnt";
  {
    CtrMount m(BerthCtr(), "overlayfs", mnt, "probe");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(ReadFile(mnt / "hello.txt"), "hello from berth\n");
    EXPECT_EQ(ReadFile(mnt / "layers/layer-2.txt"), "layer 2\n");
    EXPECT_TRUE(fs::exists(mnt / "bin/busybox"));
    EXPECT_EQ(fs::read_symlink(mnt / "bin/sh"), "busybox");
    // Whiteouts: a file and a directory deleted, a directory made opaque.
    EXPECT_EQ(ReadFile(mnt / "whiteout/kept.txt"), "kept\n");
    EXPECT_FALSE(fs::exists(fs::symlink_status(mnt / "whiteout/deleted.txt")));
    EXPECT_FALSE(fs::exists(fs::symlink_status(mnt / "whiteout/gone-dir")));
    EXPECT_EQ(ReadFile(mnt / "whiteout/opaque/new.txt"), "new\n");
    EXPECT_FALSE(fs::exists(fs::symlink_status(mnt / "whiteout/opaque/old.txt")));
    EXPECT_FALSE(fs::exists(fs::symlink_status(mnt / "whiteout/opaque/sub")));
    // No whiteout markers leak into the view.
    for (const auto& e : fs::recursive_directory_iterator(mnt / "whiteout")) {
      EXPECT_THAT(e.path().filename().string(), ::testing::Not(::testing::StartsWith(".wh."))) << e.path();
    }
    // Owners, modes, special files, a file replacing a directory.
    struct stat st {};
    ASSERT_EQ(::lstat((mnt / "special/owned").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
    ASSERT_EQ(::lstat((mnt / "special/setuid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);
    ASSERT_EQ(::lstat((mnt / "special/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(mnt / "home")));
    EXPECT_EQ(fs::hard_link_count(mnt / "special/hard1"), 2u);
  }
  EXPECT_THAT(MountsUnder(mnt), IsEmpty());

  const fs::path snapshot_dirs = daemon_->root() / "snapshots" / "overlayfs" / "snapshots";
  EXPECT_EQ(EntriesIn(snapshot_dirs), 6u);
  r = daemon_->Ctr({"snapshots", "rm", "probe"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(EntriesIn(snapshot_dirs), 5u);
  // The image is the only root left: removing it (sync) collects its blobs and, through the
  // config's gc.ref.snapshot label, the whole chain.
  r = daemon_->Ctr({"images", "rm", "--sync", ref_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // Synchronous: all gone when the call returns.
  EXPECT_EQ(EntriesIn(snapshot_dirs), 0u);
  EXPECT_EQ(EntriesIn(daemon_->root() / "content" / "blobs" / "sha256"), 0u);
  r = daemon_->Ctr({"snapshots", "ls"});
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("sha256:"))) << r.out;
  r = daemon_->Ctr({"content", "ls", "-q"});
  EXPECT_EQ(r.out, "");
}

// The same image unpacked by containerd 1.6 and by berthd, with each snapshotter, gives the
// same snapshot chain and identical trees (paths, types, modes, owners, sizes and contents,
// link targets, devices, hard links, xattrs, mtimes).
class ImagePullUnpackCompareTest : public ImagePullE2E, public ::testing::WithParamInterface<std::string> {};

TEST_P(ImagePullUnpackCompareTest, TreeIsIdenticalToContainerds) {
  const std::string sn = GetParam();
  Containerd containerd(dir_->path() / "containerd");
  if (::testing::Test::HasFailure()) return;

  auto r = containerd.Ctr({"images", "pull", "--snapshotter", sn, "--plain-http", ref_});
  ASSERT_EQ(r.exit_code, 0) << "containerd: " << Describe(r) << containerd.Log();
  r = daemon_->Ctr({"images", "pull", "--snapshotter", sn, "--plain-http", ref_});
  ASSERT_EQ(r.exit_code, 0) << "berthd: " << Describe(r) << daemon_->Log();

  auto theirs_ls = containerd.Ctr({"snapshots", "--snapshotter", sn, "ls"});
  auto ours_ls = daemon_->Ctr({"snapshots", "--snapshotter", sn, "ls"});
  ASSERT_EQ(theirs_ls.exit_code, 0) << Describe(theirs_ls);
  ASSERT_EQ(ours_ls.exit_code, 0) << Describe(ours_ls);
  auto theirs_chain = SnapshotParents(theirs_ls.out);
  EXPECT_EQ(SnapshotParents(ours_ls.out), theirs_chain) << "the same chain IDs, the same parents";
  const std::string top = TopOfChain(theirs_chain);
  ASSERT_FALSE(top.empty()) << theirs_ls.out;

  // `ctr snapshots view` sets no gc.root label (unlike prepare), so a view is collectable and
  // either daemon's collection after the pull's lease went may take it: label it a root, and
  // should the collection have come between the two commands, make it again.
  for (auto* ctr : {&containerd.socket(), &daemon_->socket()}) {
    const std::vector<std::string> snapshots = {CtrBin(), "--address", ctr->string(), "snapshots", "--snapshotter", sn};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), snapshots.begin(), snapshots.end());
      return e2e::Run(args);
    };
    bool kept = false;
    for (int attempt = 0; attempt < 5 && !kept; ++attempt) {
      r = with({"view", "cmp", top});
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
      r = with({"label", "cmp", "containerd.io/gc.root=test"});
      kept = r.exit_code == 0;
      if (!kept) {
        EXPECT_THAT(r.err, HasSubstr("not found")) << Describe(r);
      }
    }
    ASSERT_TRUE(kept) << Describe(r);
  }
  std::vector<std::string> theirs, ours;
  {
    CtrMount m1({CtrBin(), "--address", containerd.socket().string()}, sn, dir_->path() / "theirs", "cmp");
    CtrMount m2(BerthCtr(), sn, dir_->path() / "ours", "cmp");
    ASSERT_TRUE(m1.ok() && m2.ok());
    theirs = ListTree(dir_->path() / "theirs");
    ours = ListTree(dir_->path() / "ours");
  }
  // The root directory has no tar entry: its mtime is when each daemon made the directory.
  // containerd's native snapshotter copies the parent with continuity's CopyDir, which sets a
  // directory's times before filling it, so every non-empty directory it copied has the copy's
  // time; berthd keeps the layer's times. Directory mtimes are compared for overlayfs only.
  for (auto* listing : {&theirs, &ours}) {
    ASSERT_FALSE(listing->empty());
    for (auto& line : *listing) {
      bool is_dir = line.find(" dir ") != std::string::npos;
      if (&line == &listing->front() || (sn == "native" && is_dir)) line = line.substr(0, line.find(" mtime="));
    }
  }
  EXPECT_GT(theirs.size(), 100u) << "busybox, its applets and the test layers";
  EXPECT_EQ(ours, theirs);
  if (ours != theirs) {
    // Name the differences, not just the sizes.
    std::vector<std::string> only_ours, only_theirs;
    std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(only_ours));
    std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(), std::back_inserter(only_theirs));
    for (const auto& l : only_ours) ADD_FAILURE() << "only berthd: " << l;
    for (const auto& l : only_theirs) ADD_FAILURE() << "only containerd: " << l;
  }
  for (auto* ctr : {&containerd.socket(), &daemon_->socket()}) {
    e2e::Run({CtrBin(), "--address", ctr->string(), "snapshots", "--snapshotter", sn, "rm", "cmp"});
  }
  containerd.Stop();
  EXPECT_THAT(MountsUnder(dir_->path()), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Snapshotters, ImagePullUnpackCompareTest, ::testing::Values("overlayfs", "native"));

}  // namespace
}  // namespace berth::e2e
