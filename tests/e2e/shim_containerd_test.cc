// berth-shim driven by the real containerd 1.6: containerd starts it as the shim of runtime
// io.containerd.berth.v1 (a `containerd-shim-berth-v1` symlink first in containerd's PATH), and
// `ctr` runs containers through it: output, exit codes, runtime errors, the detached lifecycle
// (ls/ps/pause/resume/metrics/exec/kill/rm), OOM events, and crun as the OCI runtime.
// Afterwards no shim process, socket or mount may be left.
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "containerd_daemon.h"
#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Per process: without runtime options runc's state lives in /run/containerd/runc/<ns>, shared
// by every daemon on the host, so concurrent runs must not share a namespace.
const std::string kNs = "berth-shim-e2e-" + std::to_string(::getpid());
constexpr const char* kImage = "berth/shimtest:latest";
constexpr const char* kRuntime = "io.containerd.berth.v1";

std::string ShimBin() {
  if (const char* env = std::getenv("BERTH_TEST_SHIM_BIN")) return env;
  return (fs::path(BerthdBin()).parent_path().parent_path() / "berth-shim" / "berth-shim").string();
}

bool HaveBinary(const std::string& name) {
  return Run({"sh", "-c", "command -v " + name}).exit_code == 0;
}


class ShimContainerdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!fs::exists(Containerd::kBinary)) GTEST_SKIP() << "no " << Containerd::kBinary;
    if (!HaveBinary("runc")) GTEST_SKIP() << "no runc";
    ASSERT_TRUE(fs::exists(ShimBin())) << ShimBin();
    dir_ = std::make_unique<TempDir>();
    bin_ = dir_->path() / "bin";
    fs::create_directories(bin_);
    fs::create_symlink(ShimBin(), bin_ / "containerd-shim-berth-v1");
    // containerd looks shims up in its PATH: ours first.
    const char* path = std::getenv("PATH");
    old_path_ = path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    ::setenv("PATH", (bin_.string() + ":" + old_path_).c_str(), 1);
    daemon_ = std::make_unique<Containerd>(dir_->path() / "containerd");
    ::setenv("PATH", old_path_.c_str(), 1);
    fs::path layout = BuildTestImage(dir_->path() / "layout");
    ASSERT_FALSE(layout.empty());
    fs::path tar = dir_->path() / "image.tar";
    ASSERT_EQ(e2e::Run({"tar", "-C", layout.string(), "-cf", tar.string(), "."}).exit_code, 0);
    auto r = Ctr({"images", "import", "--base-name", "berth/shimtest", tar.string()});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  void TearDown() override {
    if (!daemon_) return;
    // Whatever a failed test left running.
    auto tasks = Ctr({"tasks", "ls", "-q"});
    std::istringstream ids(tasks.out);
    for (std::string id; ids >> id;) {
      Ctr({"tasks", "kill", "-s", "SIGKILL", id});
      WaitUntil([&] { return Ctr({"tasks", "rm", id}).exit_code == 0; }, 10s);
    }
    auto containers = Ctr({"containers", "ls", "-q"});
    std::istringstream cids(containers.out);
    for (std::string id; cids >> id;) Ctr({"containers", "rm", id});
    // A shim exits by itself shortly after its task is deleted.
    EXPECT_TRUE(WaitUntil([] { return ProcessesMentioning("-namespace " + kNs).empty(); }, 15s))
        << "berth-shim processes left behind";
    daemon_->Stop();
    EXPECT_TRUE(MountsUnder(dir_->path()).empty());
    std::error_code ec;
    fs::remove(fs::path("/run/containerd/runc") / kNs, ec);  // runc's state dir, empty by now
    EXPECT_THAT(RemoveNamespaceCgroups(kNs), ::testing::IsEmpty()) << "container cgroups left behind";
  }

  CommandResult Ctr(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) const {
    args.insert(args.begin(), {"--namespace", kNs});
    return daemon_->Ctr(args, timeout);
  }
  CommandResult RunTask(const std::string& id, std::vector<std::string> cmd, std::vector<std::string> flags = {}) const {
    std::vector<std::string> a = {"run", "--rm", "--runtime", kRuntime};
    a.insert(a.end(), flags.begin(), flags.end());
    a.push_back(kImage);
    a.push_back(id);
    a.insert(a.end(), cmd.begin(), cmd.end());
    return Ctr(a);
  }
  std::string TaskStatus(const std::string& id) const {
    auto r = Ctr({"tasks", "ls"});
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string tid, pid, status;
      if (ls >> tid >> pid >> status && tid == id) return status;
    }
    return "";
  }

  std::unique_ptr<TempDir> dir_;
  fs::path bin_;
  std::string old_path_;
  std::unique_ptr<Containerd> daemon_;
};

TEST_F(ShimContainerdTest, RunPrintsOutputAndExitCodes) {
  auto r = RunTask("t1", {"echo", "hello"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello\n");

  r = RunTask("t2", {"sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("oops"), std::string::npos) << Describe(r);

  // runc's own error text reaches the client.
  r = RunTask("t3", {"nonexist"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("OCI runtime create failed"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("executable file not found in $PATH"), std::string::npos) << Describe(r);
}

TEST_F(ShimContainerdTest, DetachedTaskLifecycle) {
  auto r = Ctr({"run", "-d", "--runtime", kRuntime, kImage, "d1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TaskStatus("d1"), "RUNNING");

  r = Ctr({"tasks", "ps", "d1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  ASSERT_EQ(Ctr({"tasks", "pause", "d1"}).exit_code, 0);
  EXPECT_EQ(TaskStatus("d1"), "PAUSED");
  // Pausing twice is refused.
  EXPECT_NE(Ctr({"tasks", "pause", "d1"}).exit_code, 0);
  ASSERT_EQ(Ctr({"tasks", "resume", "d1"}).exit_code, 0);
  EXPECT_EQ(TaskStatus("d1"), "RUNNING");

  r = Ctr({"tasks", "metrics", "d1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("memory.usage_in_bytes"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("pids.current"), std::string::npos) << Describe(r);

  r = Ctr({"tasks", "exec", "--exec-id", "e1", "d1", "echo", "from-exec"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "from-exec\n");
  r = Ctr({"tasks", "exec", "--exec-id", "e2", "d1", "sh", "-c", "exit 5"});
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  r = Ctr({"tasks", "exec", "--exec-id", "e3", "d1", "nonexist"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("OCI runtime exec failed"), std::string::npos) << Describe(r);

  // A detached exec shows up in ps with its exec id.
  r = Ctr({"tasks", "exec", "-d", "--exec-id", "e4", "d1", "sleep", "1000"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Ctr({"tasks", "ps", "d1"});
  EXPECT_NE(r.out.find("e4"), std::string::npos) << Describe(r);

  // Deleting a running task is refused.
  EXPECT_NE(Ctr({"tasks", "rm", "d1"}).exit_code, 0);
  ASSERT_EQ(Ctr({"tasks", "kill", "-s", "SIGKILL", "d1"}).exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus("d1") == "STOPPED"; }, 10s));
  // Killing an exited task: "process already finished", not found.
  r = Ctr({"tasks", "kill", "d1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << Describe(r);
  r = Ctr({"tasks", "rm", "d1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Ctr({"containers", "rm", "d1"}).exit_code, 0);
}

TEST_F(ShimContainerdTest, MemoryLimitGivesOomEvent) {
  BackgroundProcess events({CtrBin(), "--address", daemon_->socket().string(), "--namespace", kNs, "events"},
                           dir_->path() / "events.txt");
  std::this_thread::sleep_for(300ms);
  auto r = RunTask("o1", {"sh", "-c", "x=a; while true; do x=\"$x$x\"; done"}, {"--memory-limit", "16777216"});
  EXPECT_EQ(r.exit_code, 137) << Describe(r);
  EXPECT_TRUE(events.WaitForOutput("/tasks/oom", 10s)) << events.Output();
  EXPECT_TRUE(events.WaitForOutput("/tasks/delete", 10s)) << events.Output();
  std::string out = events.Output();
  EXPECT_LT(out.find("/tasks/start"), out.find("/tasks/exit"));
}

// The shim outlives its daemon: a containerd restart finds the task still running and
// can still stop it; events published while the daemon was away are not lost for good.
TEST_F(ShimContainerdTest, ShimSurvivesDaemonRestart) {
  auto r = Ctr({"run", "-d", "--runtime", kRuntime, kImage, "s1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  daemon_->Stop();
  ::setenv("PATH", (bin_.string() + ":" + old_path_).c_str(), 1);
  daemon_ = std::make_unique<Containerd>(dir_->path() / "containerd");
  ::setenv("PATH", old_path_.c_str(), 1);
  EXPECT_EQ(TaskStatus("s1"), "RUNNING");
  ASSERT_EQ(Ctr({"tasks", "kill", "-s", "SIGKILL", "s1"}).exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus("s1") == "STOPPED"; }, 10s));
  r = Ctr({"tasks", "rm", "s1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Ctr({"containers", "rm", "s1"}).exit_code, 0);
}

// crun as the OCI runtime: ctr accepts --runc-binary only for io.containerd.runc.v2, so the
// shim is installed under that name here (first in containerd's PATH).
TEST_F(ShimContainerdTest, CrunThroughRuncBinaryOption) {
  if (!HaveBinary("crun")) GTEST_SKIP() << "no crun";
  fs::create_symlink(ShimBin(), bin_ / "containerd-shim-runc-v2");
  // crun refuses this hybrid host without a v1 hugetlb hierarchy (see machine-notes).
  bool mounted = false;
  if (!fs::exists("/sys/fs/cgroup/hugetlb/cgroup.procs")) {
    fs::create_directories("/sys/fs/cgroup/hugetlb");
    mounted = ::mount("cgroup", "/sys/fs/cgroup/hugetlb", "cgroup", 0, "hugetlb") == 0;
    if (!mounted) GTEST_SKIP() << "cannot mount a v1 hugetlb hierarchy";
  }
  struct Unmount {
    bool mounted;
    ~Unmount() {
      if (mounted && ::umount("/sys/fs/cgroup/hugetlb") == 0) ::rmdir("/sys/fs/cgroup/hugetlb");
    }
  } unmount{mounted};
  auto r = Ctr({"run", "--rm", "--runtime", "io.containerd.runc.v2", "--runc-binary", "crun", kImage, "c1", "echo",
                "hello-crun"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello-crun\n");
  r = Ctr({"run", "--rm", "--runtime", "io.containerd.runc.v2", "--runc-binary", "crun", kImage, "c2", "sh", "-c",
           "exit 7"});
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  // It really was berth-shim: containerd's shim names itself in the log, ours logs "serving".
  EXPECT_NE(daemon_->Log().find("msg=\"serving\" id=c1"), std::string::npos);
}

}  // namespace
}  // namespace berth::e2e
