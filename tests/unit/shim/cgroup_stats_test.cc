#include "shim/cgroup_stats.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

class CgroupStatsFakeCgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-shim-cg-XXXXXX";
    root_ = ::mkdtemp(t);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST_F(CgroupStatsFakeCgroups, ParsesProcCgroupV1WithJoinedControllers) {
  fs::create_directories(root_ / "cpu,cpuacct");
  fs::create_directories(root_ / "memory");
  std::string text =
      "12:pids:/ns/t1\n"
      "4:cpu,cpuacct:/ns/t1\n"
      "3:memory:/ns/t1\n"
      "1:name=systemd:/ns/t1\n"
      "0::/ns/t1\n";
  CgroupPaths p = ParseProcCgroup(text, root_.string(), false);
  EXPECT_FALSE(p.unified);
  EXPECT_EQ(p.v1["memory"], (root_ / "memory/ns/t1").string());
  // no "cpu" directory of its own: the joined hierarchy
  EXPECT_EQ(p.v1["cpu"], (root_ / "cpu,cpuacct/ns/t1").string());
  EXPECT_EQ(p.v1["cpuacct"], (root_ / "cpu,cpuacct/ns/t1").string());
  EXPECT_EQ(p.v1.count("name=systemd"), 0u);
  EXPECT_TRUE(p.v2.empty());

  CgroupPaths u = ParseProcCgroup("0::/ns/t1\n", root_.string(), true);
  EXPECT_EQ(u.v2, (root_ / "ns/t1").string());
}

TEST_F(CgroupStatsFakeCgroups, StatV1) {
  Write("pids/c/pids.current", "3\n");
  Write("pids/c/pids.max", "max\n");
  Write("cpuacct/c/cpuacct.usage", "5000\n");
  Write("cpuacct/c/cpuacct.usage_percpu", "2000 3000 \n");
  Write("cpuacct/c/cpuacct.stat", "user 2\nsystem 1\n");
  Write("cpu/c/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 99\n");
  Write("memory/c/memory.stat", "cache 11\nrss 22\ntotal_rss 33\nhierarchical_memory_limit 4096\n");
  Write("memory/c/memory.usage_in_bytes", "1000\n");
  Write("memory/c/memory.max_usage_in_bytes", "2000\n");
  Write("memory/c/memory.limit_in_bytes", "16777216\n");
  Write("memory/c/memory.failcnt", "7\n");
  Write("memory/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  Write("blkio/c/blkio.throttle.io_service_bytes_recursive", "8:0 Read 100\n8:0 Write 200\nTotal 300\n");
  CgroupPaths p = ParseProcCgroup("5:pids:/c\n4:cpuacct:/c\n3:cpu:/c\n2:memory:/c\n1:blkio:/c\n", root_.string(), false);
  auto m = StatV1(p);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->pids().current(), 3u);
  EXPECT_EQ(m->pids().limit(), 0u);
  EXPECT_EQ(m->cpu().usage().total(), 5000u);
  ASSERT_EQ(m->cpu().usage().per_cpu_size(), 2);
  EXPECT_EQ(m->cpu().usage().per_cpu(1), 3000u);
  uint64_t hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(m->cpu().usage().user(), 2 * 1000000000ULL / hz);
  EXPECT_EQ(m->cpu().usage().kernel(), 1 * 1000000000ULL / hz);
  EXPECT_EQ(m->cpu().throttling().throttled_periods(), 2u);
  EXPECT_EQ(m->cpu().throttling().throttled_time(), 99u);
  EXPECT_EQ(m->memory().cache(), 11u);
  EXPECT_EQ(m->memory().rss(), 22u);
  EXPECT_EQ(m->memory().total_rss(), 33u);
  EXPECT_EQ(m->memory().hierarchical_memory_limit(), 4096u);
  EXPECT_EQ(m->memory().usage().usage(), 1000u);
  EXPECT_EQ(m->memory().usage().max(), 2000u);
  EXPECT_EQ(m->memory().usage().limit(), 16777216u);
  EXPECT_EQ(m->memory().usage().failcnt(), 7u);
  EXPECT_EQ(m->memory_oom_control().oom_kill(), 1u);
  ASSERT_EQ(m->blkio().io_service_bytes_recursive_size(), 2);
  EXPECT_EQ(m->blkio().io_service_bytes_recursive(1).op(), "Write");
  EXPECT_EQ(m->blkio().io_service_bytes_recursive(1).value(), 200u);
  EXPECT_EQ(m->blkio().io_service_bytes_recursive(0).major(), 8u);
}

TEST_F(CgroupStatsFakeCgroups, StatV2) {
  Write("c/pids.current", "2\n");
  Write("c/pids.max", "100\n");
  Write("c/cpu.stat", "usage_usec 50\nuser_usec 30\nsystem_usec 20\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
  Write("c/memory.stat", "anon 4096\nfile 8192\npgfault 12\n");
  Write("c/memory.current", "12288\n");
  Write("c/memory.max", "max\n");
  Write("c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  CgroupPaths p = ParseProcCgroup("0::/c\n", root_.string(), true);
  auto m = StatV2(p);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->pids().current(), 2u);
  EXPECT_EQ(m->pids().limit(), 100u);
  EXPECT_EQ(m->cpu().usage_usec(), 50u);
  EXPECT_EQ(m->cpu().system_usec(), 20u);
  EXPECT_EQ(m->memory().anon(), 4096u);
  EXPECT_EQ(m->memory().pgfault(), 12u);
  EXPECT_EQ(m->memory().usage(), 12288u);
  EXPECT_EQ(m->memory().usage_limit(), 0u);
  EXPECT_EQ(m->memory_events().oom_kill(), 1u);
  EXPECT_EQ(m->memory_events().max(), 3u);

  CgroupPaths gone = ParseProcCgroup("0::/nope\n", root_.string(), true);
  EXPECT_TRUE(StatV2(gone).status().Is(Errc::kNotFound));
}

}  // namespace
}  // namespace berth::shim
