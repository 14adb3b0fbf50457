#include "runtime/bundle.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

namespace fs = std::filesystem;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-bundle-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(BundleTest, CreateWritesSpecRootfsAndLogFifo) {
  auto b = Bundle::Create(root_, "ns1", "task1", R"({"ociVersion":"1.0.2"})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->path, root_ / "ns1" / "task1");
  EXPECT_TRUE(fs::is_directory(b->rootfs()));
  std::ifstream in(b->path / "config.json");
  std::string spec((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(spec, R"({"ociVersion":"1.0.2"})");
  struct stat st {};
  ASSERT_EQ(::stat(b->log_fifo().c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_FALSE(fs::exists(b->path / "config.json.tmp"));
  ASSERT_EQ(::stat(b->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "no user namespace: the bundle is root's alone";
  EXPECT_TRUE(b->MadeByBerth());
  fs::create_directories(root_ / "ns1" / "theirs");
  EXPECT_FALSE((Bundle{"ns1", "theirs", root_ / "ns1" / "theirs"}.MadeByBerth())) << "another daemon's bundle";
}

TEST_F(BundleTest, RemappedRootGetsSearchPermission) {
  // As containerd: with a gid mapping for root, the bundle's group is the mapped gid, mode 0710,
  // so the container's (unprivileged on the host) root can reach its rootfs.
  auto b = Bundle::Create(root_, "ns1", "userns",
                          R"({"linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],)"
                          R"("gidMappings":[{"containerID":0,"hostID":200000,"size":65536}]}})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(b->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 200000u);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_TRUE(Bundle::Create(root_, "ns1", "badspec", "{not json").status().Is(Errc::kInvalidArgument));
  EXPECT_FALSE(fs::exists(root_ / "ns1" / "badspec")) << "a refused bundle leaves nothing";
}

TEST_F(BundleTest, SecondCreateOfTheSameIdIsAlreadyExists) {
  ASSERT_TRUE(Bundle::Create(root_, "ns1", "task1", "{}").ok());
  auto again = Bundle::Create(root_, "ns1", "task1", "{}");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().Is(Errc::kAlreadyExists)) << again.status().ToString();
}

// Out of file descriptors, the create fails (its first file cannot be opened) and leaves no
// empty bundle directory behind: the undo must not need a descriptor itself (found by
// tests/e2e ResourceLimitsTest: remove_all could not open the directory it was removing).
TEST_F(BundleTest, CreateOutOfFileDescriptorsFailsAndLeavesNothing) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // In a child, so that this process keeps its descriptors: none may be opened from here on.
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_NOFILE, &none) != 0) ::_exit(2);
    auto b = Bundle::Create(root_, "ns1", "nofds", "{}");
    if (b.ok()) ::_exit(3);
    struct stat st {};
    ::_exit(::stat((root_ / "ns1" / "nofds").c_str(), &st) == 0 ? 4 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: setrlimit failed, 3: the create succeeded, 4: the bundle dir was left";
}

TEST_F(BundleTest, InvalidIdIsRejectedAndNothingCreated) {
  auto b = Bundle::Create(root_, "ns1", "../escape", "{}");
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().Is(Errc::kInvalidArgument)) << b.status().ToString();
  EXPECT_FALSE(fs::exists(root_ / "escape"));
}

TEST_F(BundleTest, LoadAllFindsBundlesAndFinishesInterruptedDeletes) {
  ASSERT_TRUE(Bundle::Create(root_, "ns1", "a", "{}").ok());
  ASSERT_TRUE(Bundle::Create(root_, "ns2", "b", "{}").ok());
  fs::create_directories(root_ / "ns1" / ".c" / "rootfs");  // a delete that crashed half-way
  auto all = Bundle::LoadAll(root_);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  std::set<std::string> ids;
  for (const auto& b : *all) ids.insert(b.ns + "/" + b.id);
  EXPECT_EQ(ids, (std::set<std::string>{"ns1/a", "ns2/b"}));
  EXPECT_FALSE(fs::exists(root_ / "ns1" / ".c"));
}

TEST_F(BundleTest, LoadAllOfAMissingRootIsEmpty) {
  auto all = Bundle::LoadAll(root_ / "nope");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(BundleTest, AddressAndShimBinaryRoundTrip) {
  auto b = Bundle::Create(root_, "ns1", "t", "{}");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->ReadAddress().status().Is(Errc::kNotFound));
  std::ofstream(b->path / "address") << "unix:///run/x.sock\n";
  auto addr = b->ReadAddress();
  ASSERT_TRUE(addr.ok());
  EXPECT_EQ(*addr, "unix:///run/x.sock");
  ASSERT_TRUE(b->WriteShimBinary("/usr/bin/berth-shim").ok());
  EXPECT_EQ(b->ReadShimBinary().value(), "/usr/bin/berth-shim");
}

TEST_F(BundleTest, DeleteRemovesTheBundleAndTheEmptyNamespaceDir) {
  auto b = Bundle::Create(root_, "ns1", "t", "{}");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->Delete().ok());
  EXPECT_FALSE(fs::exists(b->path));
  EXPECT_FALSE(fs::exists(root_ / "ns1"));
  EXPECT_TRUE(b->Delete().ok()) << "deleting twice is fine";
}

}  // namespace
}  // namespace berth::runtime
