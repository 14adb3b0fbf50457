// The runtime acceptance with the real ctr against berthd: run/exec/ps/pause/resume/metrics/
// kill/rm as containerd 1.6 does them, exit codes, a terminal, task events, OOM events, and
// live restore (berthd killed -9 while tasks run, restarted, tasks still there and
// manageable), with runc and with crun. After each test nothing is left: no shims, mounts,
// cgroups or fifos.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"
#include "registry.h"
#include "text_lines.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Container ids made unique per test process: tests of other daemons may run at the same time,
// and ctr's cgroup path (/<namespace>/<id>) is the same for equal ids in any daemon.
std::string Id(const std::string& name) { return name + "-" + std::to_string(::getpid()); }



// The image every test runs, pulled from a loopback registry once per suite.
class TasksE2E : public BerthdTest {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    auto layout = BuildTestImage(suite_dir_->path() / "img", {.tag = "v1", .layers = 2});
    ASSERT_FALSE(layout.empty());
    registry_ = TestRegistry::Start(suite_dir_->path() / "registry").release();
    ASSERT_NE(registry_, nullptr);
    ASSERT_TRUE(registry_->Push(layout, "v1", "busybox:v1"));
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  void SetUp() override {
    BerthdTest::SetUp();
    ASSERT_NE(registry_, nullptr);
    image_ = registry_->Ref("busybox:v1");
    auto r = daemon_->Ctr({"images", "pull", "--plain-http", image_}, std::chrono::seconds(120));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  void TearDown() override {
    // Whatever a failed test left running is removed first, so the checks below see only leaks.
    if (daemon_ && daemon_->running()) {
      auto ls = daemon_->Ctr({"task", "ls"});
      for (const auto& [id, status] : TaskStatuses(ls.out)) {
        daemon_->Ctr({"task", "rm", "-f", id});
        daemon_->Ctr({"container", "rm", id});
      }
      auto left = daemon_->Ctr({"container", "ls", "-q"});
      std::istringstream in(left.out);
      for (std::string id; std::getline(in, id);) daemon_->Ctr({"container", "rm", id});
    }
    std::string socket = daemon_ ? daemon_->socket().string() : "";
    fs::path state = daemon_ ? daemon_->state() : fs::path();
    fs::path root = daemon_ ? daemon_->root() : fs::path();
    BerthdTest::TearDown();
    if (socket.empty()) return;
    EXPECT_TRUE(WaitUntil([&] { return ProcessesMentioning(socket).empty(); }, std::chrono::seconds(10)))
        << "shims left running:\n" << ::testing::PrintToString(ProcessesMentioning(socket));
    EXPECT_THAT(MountsUnder(state), ::testing::IsEmpty());
    EXPECT_THAT(MountsUnder(root), ::testing::IsEmpty());
    for (const auto& c : cgroups_) {
      EXPECT_FALSE(fs::exists(c)) << "cgroup left behind: " << c;
    }
    // ctr keeps its stdio fifos in /run/containerd/fifo/<random>/<id>-stdout...; none of ours stay.
    std::error_code ec;
    std::string mine = "-" + std::to_string(::getpid()) + "-std";
    for (const auto& d : fs::recursive_directory_iterator("/run/containerd/fifo", ec)) {
      EXPECT_EQ(d.path().filename().string().find(mine), std::string::npos) << "fifo left behind: " << d.path();
    }
  }

  // Remembers the cgroups a task uses (memory controller), to check they are gone at the end.
  void TrackCgroupOf(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/cgroup");
    for (std::string line; std::getline(in, line);) {
      auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
      std::string ctl = line.substr(c1 + 1, c2 - c1 - 1);
      if (ctl == "memory") cgroups_.push_back(fs::path("/sys/fs/cgroup/memory") / line.substr(c2 + 2));
    }
  }

  std::string TaskPid(const std::string& id) {
    auto ls = daemon_->Ctr({"task", "ls"});
    std::istringstream in(ls.out);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string tid, pid;
      if (f >> tid >> pid && tid == id) return pid;
    }
    return "";
  }

  static TempDir* suite_dir_;
  static TestRegistry* registry_;
  std::string image_;
  std::vector<fs::path> cgroups_;
};
TempDir* TasksE2E::suite_dir_ = nullptr;
TestRegistry* TasksE2E::registry_ = nullptr;

TEST_F(TasksE2E, RunRmPrintsTheOutput) {
  auto r = daemon_->Ctr({"run", "--rm", image_, Id("t1"), "echo", "hello"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, "hello\n");
  auto ls = daemon_->Ctr({"container", "ls", "-q"});
  EXPECT_EQ(ls.out, "") << "--rm leaves no container";
}

TEST_F(TasksE2E, ExitCodeIsPropagated) {
  auto r = daemon_->Ctr({"run", "--rm", image_, Id("t2"), "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, HasSubstr("err\n"));
}

TEST_F(TasksE2E, StdinReachesTheContainer) {
  auto argv = daemon_->CtrArgv({"run", "--rm", image_, Id("tin"), "sh", "-c", "read x; echo got-$x"});
  std::vector<std::string> full = {"sh", "-c", "echo hello | \"$@\"", "sh"};
  full.insert(full.end(), argv.begin(), argv.end());
  auto r = e2e::Run(full, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "got-hello\n");
}

TEST_F(TasksE2E, NonexistentCommandFailsWithTheRuntimesError) {
  auto r = daemon_->Ctr({"run", "--rm", image_, Id("tbad"), "/no/such/binary"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no such file or directory")) << Describe(r);
  EXPECT_EQ(daemon_->Ctr({"task", "ls", "-q"}).out, "");
}

TEST_F(TasksE2E, DetachedTaskLifecycle) {
  auto r = daemon_->Ctr({"run", "-d", image_, Id("t3"), "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(TaskStatuses(daemon_->Ctr({"task", "ls"}).out)[Id("t3")], "RUNNING");
  std::string pid = TaskPid(Id("t3"));
  ASSERT_FALSE(pid.empty());
  TrackCgroupOf(pid);
  // The shim is named berth-shim (ps -C, pgrep -x), not "exe" from a re-exec of /proc/self/exe.
  auto shims = e2e::Run({"pgrep", "-x", "-a", "berth-shim"});
  EXPECT_THAT(shims.out, HasSubstr(daemon_->socket().string())) << Describe(shims);
  // The bundle is where containerd 1.6 keeps it (tools that look into it find it there).
  fs::path bundle = daemon_->state() / "io.containerd.runtime.v2.task" / "default" / Id("t3");
  for (const char* name : {"config.json", "rootfs", "address", "log"}) {
    EXPECT_TRUE(fs::exists(bundle / name)) << (bundle / name);
  }

  auto exec = daemon_->Ctr({"task", "exec", "--exec-id", "e1", Id("t3"), "ps"});
  EXPECT_EQ(exec.exit_code, 0) << Describe(exec);
  EXPECT_THAT(exec.out, HasSubstr("sleep 1000"));
  // The shim names files in the bundle after an exec id: one that is a path is refused, as
  // containerd refuses it (found by the shim_ttrpc fuzz target's author: it wrote
  // <id>.process.json and unlinked <id>.pid outside the bundle).
  fs::path planted = dir_->path() / "escaped";
  auto bad = daemon_->Ctr({"task", "exec", "--exec-id", "../../../../.." + planted.string(), Id("t3"), "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("invalid exec id"));
  EXPECT_THAT(bad.err, HasSubstr("invalid argument"));
  EXPECT_FALSE(fs::exists(planted.string() + ".process.json"));

  auto ps = daemon_->Ctr({"task", "ps", Id("t3")});
  EXPECT_EQ(ps.exit_code, 0) << Describe(ps);
  EXPECT_THAT(ps.out, HasSubstr(pid));

  ASSERT_EQ(daemon_->Ctr({"task", "pause", Id("t3")}).exit_code, 0);
  EXPECT_EQ(TaskStatuses(daemon_->Ctr({"task", "ls"}).out)[Id("t3")], "PAUSED");
  ASSERT_EQ(daemon_->Ctr({"task", "resume", Id("t3")}).exit_code, 0);
  EXPECT_EQ(TaskStatuses(daemon_->Ctr({"task", "ls"}).out)[Id("t3")], "RUNNING");

  auto metrics = daemon_->Ctr({"task", "metrics", Id("t3")});
  EXPECT_EQ(metrics.exit_code, 0) << Describe(metrics);
  EXPECT_THAT(metrics.out, HasSubstr("memory.usage_in_bytes"));
  EXPECT_THAT(metrics.out, HasSubstr("pids.current"));

  // A running task cannot be deleted, nor its container.
  auto rm_running = daemon_->Ctr({"task", "rm", Id("t3")});
  EXPECT_NE(rm_running.exit_code, 0);
  auto crm_running = daemon_->Ctr({"container", "rm", Id("t3")});
  EXPECT_NE(crm_running.exit_code, 0);

  ASSERT_EQ(daemon_->Ctr({"task", "kill", "-s", "SIGKILL", Id("t3")}).exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] { return TaskStatuses(daemon_->Ctr({"task", "ls"}).out)[Id("t3")] == "STOPPED"; }));
  auto rm = daemon_->Ctr({"task", "rm", Id("t3")});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_THAT(rm.err, HasSubstr("exit code 137")) << "ctr task rm reports the task's status";
  EXPECT_EQ(daemon_->Ctr({"task", "ls", "-q"}).out, "");
  auto crm = daemon_->Ctr({"container", "rm", Id("t3")});
  EXPECT_EQ(crm.exit_code, 0) << Describe(crm);
}

TEST_F(TasksE2E, UnknownTaskErrorsAreNotFound) {
  auto r = daemon_->Ctr({"task", "kill", "nosuch"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not found"));
  ASSERT_EQ(daemon_->Ctr({"container", "create", image_, Id("c1"), "true"}).exit_code, 0);
  auto p = daemon_->Ctr({"task", "pause", Id("c1")});
  EXPECT_NE(p.exit_code, 0);
  EXPECT_THAT(p.err, HasSubstr("not found"));
}

TEST_F(TasksE2E, EventsShowTheTaskLifecycle) {
  BackgroundProcess events(daemon_->CtrArgv({"events"}), dir_->path() / "events.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = daemon_->Ctr({"run", "--rm", image_, Id("t4"), "true"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(events.WaitForOutput("/tasks/delete", std::chrono::seconds(10))) << events.Output();
  std::string out = events.Output();
  for (const char* topic : {"/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"}) {
    EXPECT_THAT(out, HasSubstr(topic));
  }
  EXPECT_LT(out.find("/tasks/create"), out.find("/tasks/start"));
  EXPECT_LT(out.find("/tasks/start"), out.find("/tasks/exit"));
  EXPECT_LT(out.find("/tasks/exit"), out.find("/tasks/delete"));
}

TEST_F(TasksE2E, MemoryLimitProducesAnOomEvent) {
  BackgroundProcess events(daemon_->CtrArgv({"events"}), dir_->path() / "events.out");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // A shell variable of 64 MiB in a 16 MiB container.
  auto r = daemon_->Ctr({"run", "--rm", "--memory-limit", "16777216", image_, Id("toom"), "sh", "-c",
                         "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo ${#x}"},
                        std::chrono::seconds(120));
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(events.WaitForOutput("/tasks/oom", std::chrono::seconds(10))) << events.Output();
}

TEST_F(TasksE2E, TerminalRunGivesAWorkingTty) {
  std::string session = "berth-tty-" + std::to_string(::getpid());
  std::vector<std::string> argv = daemon_->CtrArgv({"run", "-t", "--rm", image_, Id("t5"), "sh"});
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  ASSERT_EQ(e2e::Run({"tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd}).exit_code, 0);
  auto capture = [&] { return e2e::Run({"tmux", "capture-pane", "-p", "-t", session}).out; };
  bool prompt = WaitUntil([&] { return capture().find("#") != std::string::npos; }, std::chrono::seconds(20));
  EXPECT_TRUE(prompt) << capture() << daemon_->Log();
  e2e::Run({"tmux", "send-keys", "-t", session, "tty; stty size; echo done-$((40+2))", "Enter"});
  bool done = WaitUntil([&] { return capture().find("done-42") != std::string::npos; }, std::chrono::seconds(10));
  std::string screen = capture();
  EXPECT_TRUE(done) << screen;
  EXPECT_THAT(screen, HasSubstr("/dev/pts/"));
  EXPECT_THAT(screen, HasSubstr("30 100")) << "the console has the terminal's size";
  e2e::Run({"tmux", "send-keys", "-t", session, "exit", "Enter"});
  WaitUntil([&] { return e2e::Run({"tmux", "has-session", "-t", session}).exit_code != 0; }, std::chrono::seconds(10));
  e2e::Run({"tmux", "kill-session", "-t", session});
  EXPECT_EQ(daemon_->Ctr({"container", "ls", "-q"}).out, "");
}

// kill -9 berthd with `count` tasks running and one that exits while it is down; restart.
void LiveRestore(TasksE2E* t, Berthd& daemon, const std::string& image, const std::vector<std::string>& run_flags,
                 int count) {
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> args = {"run", "-d"};
    args.insert(args.end(), run_flags.begin(), run_flags.end());
    args.insert(args.end(), {image, Id("live" + std::to_string(i)), "sleep", "1000"});
    auto r = daemon.Ctr(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon.Log();
  }
  std::vector<std::string> args = {"run", "-d"};
  args.insert(args.end(), run_flags.begin(), run_flags.end());
  args.insert(args.end(), {image, Id("quitter"), "sh", "-c", "sleep 2; exit 7"});
  ASSERT_EQ(daemon.Ctr(args).exit_code, 0);

  daemon.Kill();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the quitter exits while berthd is down
  daemon.Start();

  auto statuses = TaskStatuses(daemon.Ctr({"task", "ls"}).out);
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(statuses[Id("live" + std::to_string(i))], "RUNNING") << i;
  }
  EXPECT_EQ(statuses[Id("quitter")], "STOPPED");
  auto rm = daemon.Ctr({"task", "rm", Id("quitter")});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_THAT(rm.err, HasSubstr("exit code 7")) << "the exit code survived the restart";
  for (int i = 0; i < count; ++i) {
    std::string id = Id("live" + std::to_string(i));
    auto k = daemon.Ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(k.exit_code, 0) << Describe(k);
  }
  for (int i = 0; i < count; ++i) {
    std::string id = Id("live" + std::to_string(i));
    EXPECT_TRUE(WaitUntil([&] { return TaskStatuses(daemon.Ctr({"task", "ls"}).out)[id] == "STOPPED"; }));
    auto trm = daemon.Ctr({"task", "rm", id});
    EXPECT_THAT(trm.err, HasSubstr("exit code 137")) << Describe(trm);
    EXPECT_EQ(daemon.Ctr({"container", "rm", id}).exit_code, 0);
  }
  EXPECT_EQ(daemon.Ctr({"container", "rm", Id("quitter")}).exit_code, 0);
  (void)t;
}

TEST_F(TasksE2E, LiveRestoreAfterKill9WithRunc) {
  LiveRestore(this, *daemon_, image_, {}, 20);
}

// crun refuses a hybrid cgroup host until a v1 hugetlb hierarchy exists (machine-notes).
class HugetlbHierarchy {
 public:
  HugetlbHierarchy() {
    if (fs::exists("/sys/fs/cgroup/hugetlb/cgroup.procs")) return;
    fs::create_directories("/sys/fs/cgroup/hugetlb");
    mounted_ = ::mount("cgroup", "/sys/fs/cgroup/hugetlb", "cgroup", 0, "hugetlb") == 0;
  }
  ~HugetlbHierarchy() {
    if (mounted_) {
      ::umount("/sys/fs/cgroup/hugetlb");
      ::rmdir("/sys/fs/cgroup/hugetlb");
    }
  }
  bool ok() const { return mounted_ || fs::exists("/sys/fs/cgroup/hugetlb/cgroup.procs"); }

 private:
  bool mounted_ = false;
};

TEST_F(TasksE2E, CrunRunsAndSurvivesARestart) {
  HugetlbHierarchy hugetlb;
  ASSERT_TRUE(hugetlb.ok());
  auto r = daemon_->Ctr({"run", "--rm", "--runc-binary", "crun", image_, Id("c1"), "sh", "-c", "echo crun; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, "crun\n");
  LiveRestore(this, *daemon_, image_, {"--runc-binary", "crun"}, 20);
}

}  // namespace
}  // namespace berth::e2e
