#include "common/cgroups.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace berth::cgroups {
namespace {

namespace fs = std::filesystem;

class CgroupsJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-shim-join-XXXXXX";
    root_ = ::mkdtemp(t);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Procs(const std::string& rel) {
    fs::create_directories(root_ / rel);
    std::ofstream(root_ / rel / "cgroup.procs");
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(root_ / rel / "cgroup.procs");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path root_;
};

TEST_F(CgroupsJoinTest, JoinsEveryV1HierarchyThatHasThePath) {
  Procs("memory/shims/a");
  Procs("cpu,cpuacct/shims/a");
  Procs("pids");  // no shims/a here: skipped
  Procs("unified/shims/a");  // cgroup2 beside v1: left alone
  ASSERT_TRUE(JoinCgroup(4242, "/shims/a", root_.string()).ok());
  EXPECT_EQ(Read("memory/shims/a"), "4242");
  EXPECT_EQ(Read("cpu,cpuacct/shims/a"), "4242");
  EXPECT_EQ(Read("unified/shims/a"), "");
}

TEST_F(CgroupsJoinTest, AMissingCgroupIsNotFoundNamingIt) {
  Procs("memory");
  Status st = JoinCgroup(4242, "/nowhere", root_.string());
  EXPECT_TRUE(st.Is(Errc::kNotFound)) << st.ToString();
  EXPECT_NE(st.ToString().find("/nowhere"), std::string::npos) << st.ToString();
}

TEST_F(CgroupsJoinTest, RefusesPathsThatLeaveTheHierarchy) {
  EXPECT_TRUE(JoinCgroup(1, "/../../etc", root_.string()).Is(Errc::kInvalidArgument));
  EXPECT_TRUE(JoinCgroup(1, "/", root_.string()).Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::cgroups
