// `berth run` and `berth tasks` end to end against berthd (the tests need only a socket; they
// passed against containerd 1.6 too when they were written). The image is built by
// scripts/mkimage (busybox-static), pushed to a loopback registry and pulled with the real ctr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "harness.h"
#include "multi_platform.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// One daemon, registry and pulled image for the whole suite (starting them is most of the cost).
class BerthRunE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Every ctr and berth call of this process works in its own namespace: tests of other
    // daemons may run at the same time, and ctr's cgroup path /<namespace>/<id> must not collide.
    ::unsetenv("BERTH_NAMESPACE");
    ::setenv("CONTAINERD_NAMESPACE", Namespace().c_str(), 1);
    dir_ = new TempDir();
    daemon_ = new Berthd(dir_->path() / "berthd");
    layout_ = BuildTestImage(dir_->path() / "layout");
    registry_ = TestRegistry::Start(dir_->path() / "registry").release();
    if (layout_.empty() || registry_ == nullptr) return;
    std::string err;
    if (!registry_->Push(layout_, "latest", "berth/run:1", &err)) {
      ADD_FAILURE() << err;
      return;
    }
    image_ = registry_->Ref("berth/run:1");
    auto r = daemon_->Ctr({"images", "pull", "--plain-http", image_});
    if (r.exit_code != 0) {
      ADD_FAILURE() << Describe(r);
      image_.clear();
    }
  }

  static void TearDownTestSuite() {
    // Whatever a failed test left running goes before the daemon does.
    if (daemon_ != nullptr) {
      auto tasks = daemon_->Ctr({"tasks", "ls", "-q"});
      std::istringstream ids(tasks.out);
      for (std::string id; ids >> id;) daemon_->Ctr({"tasks", "rm", "-f", id});
      auto containers = daemon_->Ctr({"containers", "ls", "-q"});
      std::istringstream cids(containers.out);
      for (std::string id; cids >> id;) daemon_->Ctr({"containers", "rm", id});
      delete daemon_;
    }
    delete registry_;
    if (dir_ != nullptr) {
      for (const auto& m : MountsUnder(dir_->path())) e2e::Run({"umount", "-l", m});
    }
    delete dir_;
    EXPECT_THAT(RemoveNamespaceCgroups(Namespace()), ::testing::IsEmpty()) << "container cgroups left behind";
    daemon_ = nullptr;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (image_.empty()) GTEST_SKIP() << "no test image (see the suite set-up failure)";
  }

  static std::string Namespace() { return "berth-run-" + std::to_string(::getpid()); }

  // The daemon's socket: all the tests need.
  static std::string Socket() { return daemon_->socket().string(); }

  static std::vector<std::string> BerthArgv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BerthBin(), "--address", Socket()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  static CommandResult Berth(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout = 60s) {
    return e2e::Run(BerthArgv(args), timeout);
  }

  static inline TempDir* dir_ = nullptr;
  static inline Berthd* daemon_ = nullptr;
  static inline TestRegistry* registry_ = nullptr;
  static inline fs::path layout_;
  static inline std::string image_;
};

TEST_F(BerthRunE2E, RunPrintsAndRemovesEverything) {
  auto r = Berth({"run", "--rm", image_, "t1", "echo", "hello"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello\n");
  // --rm: no task, no container, no snapshot keyed t1.
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("t1")));
  EXPECT_THAT(daemon_->Ctr({"tasks", "ls", "-q"}).out, Not(HasSubstr("t1")));
  EXPECT_THAT(daemon_->Ctr({"snapshots", "ls"}).out, Not(HasSubstr("t1")));
}

TEST_F(BerthRunE2E, CommandWordsThatAreVerbsStayTheCommand) {
  auto r = Berth({"run", "--rm", image_, "tv", "echo", "events", "ps", "--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "events ps --help\n");
  r = Berth({"run", "--rm", image_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("ID"));
}

TEST_F(BerthRunE2E, ExitCodeIsTheContainers) {
  auto r = Berth({"run", "--rm", image_, "t2", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, HasSubstr("err\n"));
}

TEST_F(BerthRunE2E, EnvCwdAndUserAreVisibleInside) {
  auto r = Berth({"run", "--rm", "--env", "FOO=bar", "--env", "X=1", "--cwd", "/etc", "--user",
                  "1000:1000", image_, "t3", "sh", "-c", "echo $FOO$X; pwd; id -u; id -g"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "bar1\n/etc\n1000\n1000\n");
}

TEST_F(BerthRunE2E, ContainerRecordCarriesSpecAndRuncOptions) {
  auto r = Berth({"containers", "create", "--label", "k=v", "--runc-binary", "/usr/sbin/runc",
                  image_, "c1", "true"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"containers", "info", "c1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"Name\": \"io.containerd.runc.v2\""));
  EXPECT_THAT(r.out, HasSubstr("\"k\": \"v\""));
  EXPECT_THAT(r.out, HasSubstr("\"cgroupsPath\": \"/" + Namespace() + "/c1\""));
  EXPECT_THAT(r.out, HasSubstr("io.containerd.image.config.stop-signal"));
  // containerd.runc.v1.Options{binary_name (6): "/usr/sbin/runc"}, as ctr packs it.
  EXPECT_THAT(r.out, HasSubstr("\"type_url\": \"containerd.runc.v1.Options\""));
  EXPECT_THAT(r.out, HasSubstr("\"value\": \"Mg4vdXNyL3NiaW4vcnVuYw==\""));
  // ctr itself can start what berth created.
  r = daemon_->Ctr({"tasks", "start", "c1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  daemon_->Ctr({"tasks", "rm", "c1"});
  r = daemon_->Ctr({"containers", "rm", "c1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(BerthRunE2E, DetachedTaskVerbs) {
  auto r = Berth({"run", "-d", image_, "d1", "sleep", "600"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  r = Berth({"tasks", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("TASK"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("d1 +[0-9]+ +RUNNING"));

  r = Berth({"tasks", "ps", "d1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, ::testing::StartsWith("PID"));

  r = Berth({"tasks", "pause", "d1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Berth({"tasks", "ls"}).out, ::testing::ContainsRegex("d1 +[0-9]+ +PAUSED"));
  r = Berth({"tasks", "resume", "d1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Berth({"tasks", "ls"}).out, ::testing::ContainsRegex("d1 +[0-9]+ +RUNNING"));

  // Metrics: berth-shim reads the container's cgroups (v1 on this hybrid host).
  r = Berth({"tasks", "metrics", "d1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("METRIC"));
  EXPECT_THAT(r.out, HasSubstr("pids.current"));
  EXPECT_THAT(r.out, HasSubstr("memory.usage_in_bytes"));

  r = Berth({"tasks", "exec", "--exec-id", "e1", "d1", "sh", "-c", "echo in-exec; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_EQ(r.out, "in-exec\n");
  // A command word that is also a berth verb ("ps") is the command, not a verb.
  r = Berth({"tasks", "exec", "--exec-id", "e2", "d1", "ps"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sleep"));

  // Not stopped yet: a plain rm is refused.
  r = Berth({"tasks", "rm", "d1"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);

  r = Berth({"tasks", "kill", "-s", "SIGKILL", "d1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(WaitUntil([&] {
    return Berth({"tasks", "ls"}).out.find("STOPPED") != std::string::npos;
  })) << Berth({"tasks", "ls"}).out;
  r = Berth({"tasks", "rm", "d1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Berth({"tasks", "ls"}).out, Not(HasSubstr("d1")));
  r = daemon_->Ctr({"containers", "rm", "d1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(BerthRunE2E, ForceRemoveKillsARunningTask) {
  ASSERT_EQ(Berth({"run", "-d", image_, "f1", "sleep", "600"}).exit_code, 0);
  auto r = Berth({"tasks", "rm", "-f", "f1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(Berth({"tasks", "ls"}).out, Not(HasSubstr("f1")));
  daemon_->Ctr({"containers", "rm", "f1"});
}

// Rows of the table `berth bench` prints, by phase: the cells of each.
std::map<std::string, std::vector<std::string>> BenchRows(const std::string& out) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> cells;
    for (std::string w; words >> w;) cells.push_back(w);
    if (!cells.empty()) rows[cells[0]] = cells;
  }
  return rows;
}

std::vector<long long> NumbersIn(const fs::path& file) {
  std::ifstream in(file);
  std::vector<long long> out;
  for (long long v; in >> v;) out.push_back(v);
  return out;
}

// `berth bench`: N starts P at a time, then the teardown, each timed per container: the table
// has both phases with every container counted, the latency files one positive figure per
// container, and nothing of the batch is left (tasks, containers, snapshots).
TEST_F(BerthRunE2E, BenchStartsAndTearsDownEveryContainerAndPrintsBothPhases) {
  const fs::path starts = dir_->path() / "bench-starts";
  const fs::path teardowns = dir_->path() / "bench-teardowns";
  auto r = Berth({"bench", "--count", "4", "--parallel", "2", "--prefix", "bt", "--latencies", starts.string(),
                  "--teardown-latencies", teardowns.string(), image_},
                 180s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto rows = BenchRows(r.out);
  ASSERT_EQ(rows.count("PHASE"), 1u) << r.out;
  EXPECT_EQ(rows["PHASE"].back(), "CONTAINERS/S");
  ASSERT_EQ(rows.count("start"), 1u) << r.out;
  ASSERT_EQ(rows.count("teardown"), 1u) << r.out;
  EXPECT_EQ(rows["start"][1], "4") << r.out;
  EXPECT_EQ(rows["start"][2], "0") << r.out;
  EXPECT_EQ(rows["teardown"][1], "4") << r.out;
  EXPECT_GT(std::stod(rows["start"].back()), 0) << r.out;
  EXPECT_THAT(r.err, HasSubstr("summary: started=4 failed=0"));
  EXPECT_THAT(r.err, HasSubstr("running=4"));
  for (const auto& file : {starts, teardowns}) {
    auto v = NumbersIn(file);
    EXPECT_EQ(v.size(), 4u) << file;
    for (long long ns : v) EXPECT_GT(ns, 0) << file;
  }
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("bt-")));
  EXPECT_THAT(daemon_->Ctr({"tasks", "ls", "-q"}).out, Not(HasSubstr("bt-")));
  EXPECT_THAT(daemon_->Ctr({"snapshots", "ls"}).out, Not(HasSubstr("bt-")));
  EXPECT_THAT(daemon_->Ctr({"leases", "ls"}).out, Not(HasSubstr("berth-bench-"))) << "the batch's lease stays";
}

// --keep leaves the batch running (no teardown row); --cleanup tears down what it left.
TEST_F(BerthRunE2E, BenchKeepLeavesTheBatchRunningAndCleanupRemovesIt) {
  auto r = Berth({"bench", "--count", "2", "--prefix", "bk", "--keep", "--runtime", "io.containerd.runc.v2", image_,
                  "--", "sleep", "1000"},
                 120s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto rows = BenchRows(r.out);
  EXPECT_EQ(rows.count("teardown"), 0u) << r.out;
  auto tasks = daemon_->Ctr({"tasks", "ls"});
  int running = 0;
  std::istringstream lines(tasks.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("bk-", 0) == 0 && line.find("RUNNING") != std::string::npos) ++running;
  }
  EXPECT_EQ(running, 2) << tasks.out;
  auto cleanup = Berth({"bench", "--cleanup", "--prefix", "bk"}, 120s);
  ASSERT_EQ(cleanup.exit_code, 0) << Describe(cleanup);
  rows = BenchRows(cleanup.out);
  ASSERT_EQ(rows.count("teardown"), 1u) << cleanup.out;
  EXPECT_EQ(rows["teardown"][1], "2") << cleanup.out;
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("bk-")));
  EXPECT_THAT(daemon_->Ctr({"snapshots", "ls"}).out, Not(HasSubstr("bk-")));
}

// --raw: the floor, the same containers by runc itself (the daemon only makes the image view):
// both phases complete, and the view, the bundles and runc's state are gone after.
TEST_F(BerthRunE2E, BenchRawStartsWithTheRuntimeDirectlyAndLeavesNothing) {
  const fs::path raw_dir = dir_->path() / "bench-raw";
  fs::create_directories(raw_dir);
  auto r = Berth({"bench", "--raw", "--raw-dir", raw_dir.string(), "--count", "3", "--parallel", "2", "--prefix", "br",
                  image_},
                 180s);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto rows = BenchRows(r.out);
  ASSERT_EQ(rows.count("start"), 1u) << r.out;
  ASSERT_EQ(rows.count("teardown"), 1u) << r.out;
  EXPECT_EQ(rows["start"][1], "3") << r.out;
  EXPECT_EQ(rows["teardown"][1], "3") << r.out;
  EXPECT_THAT(r.err, HasSubstr("running=3"));
  EXPECT_THAT(daemon_->Ctr({"snapshots", "ls"}).out, Not(HasSubstr("br-"))) << "the view stays";
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("br-"))) << "raw made a container";
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(raw_dir)) left.push_back(e.path().string());
  EXPECT_THAT(left, Not(::testing::Contains(HasSubstr("br-")))) << "bundles or runtime state left";
  EXPECT_THAT(MountsUnder(raw_dir), ::testing::IsEmpty());
}

TEST_F(BerthRunE2E, BenchOfAnImageNotThereOrBadFlagsIsAClearError) {
  auto r = Berth({"bench", "--count", "2", "127.0.0.1:1/not/there:1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("not found"));
  EXPECT_TRUE(r.out.empty()) << "no table when nothing ran: " << r.out;
  r = Berth({"bench"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("image"));
  r = Berth({"bench", "--cleanup", image_});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = Berth({"bench", "--count", "0", image_});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

TEST_F(BerthRunE2E, MissingImageIsAClearError) {
  // --pull never: this test must not reach out to docker.io for the missing image.
  auto r = Berth({"run", "--rm", "--pull", "never", "no/such:image", "m1", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("image no/such:image not found"));
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("m1")));
}

TEST_F(BerthRunE2E, TtyGivesATerminal) {
  // berth under a real pty, as from an interactive shell.
  auto argv = BerthArgv({"run", "--rm", "-t", image_, "p1", "busybox", "tty"});
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  std::string out;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once berth (the last holder of the slave) exits
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("/dev/pts/[0-9]+"));
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("p1")));
}

TEST_F(BerthRunE2E, PlatformChoosesTheManifestOfAMultiPlatformImage) {
  // One image, an index of the host's manifest (the suite's image, unpacked by the pull in
  // the set-up) and another platform's, imported and unpacked for the other platform.
  auto two = MakeTwoPlatformLayout(layout_, "latest", dir_->path() / "two-platforms");
  ASSERT_FALSE(two.dir.empty());
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", {two.host_manifest, two.other_manifest}}};
  auto index_desc = WriteBlob(two.dir, "application/vnd.oci.image.index.v1+json", index.dump());
  index_desc["annotations"] = {{"io.containerd.image.name", "berth/two:1"}};
  WriteLayoutIndex(two.dir, nlohmann::json::array({index_desc}));
  const fs::path tar = dir_->path() / "two-platforms.tar";
  ASSERT_TRUE(TarLayout(two.dir, tar));
  auto r = Berth({"images", "import", "--platform", two.other_platform, tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // --platform: the other manifest's config and chain.
  r = Berth({"containers", "create", "--pull", "never", "--platform", two.other_platform, "berth/two:1",
             "plat1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = daemon_->Ctr({"snapshots", "info", "plat1"});
  EXPECT_THAT(r.out, HasSubstr("\"Parent\": \"" + two.other_chain_id + "\"")) << Describe(r);
  r = daemon_->Ctr({"containers", "info", "plat1"});
  EXPECT_THAT(r.out, HasSubstr("\"berth.test.platform\": \"" + two.other_platform + "\"")) << r.out;
  // `run` too (detached: the other architecture's process need not start here).
  r = Berth({"run", "-d", "--pull", "never", "--platform", two.other_platform, "berth/two:1", "plat2"});
  EXPECT_THAT(daemon_->Ctr({"snapshots", "info", "plat2"}).out,
              HasSubstr("\"Parent\": \"" + two.other_chain_id + "\"")) << Describe(r);
  daemon_->Ctr({"tasks", "rm", "-f", "plat2"});
  daemon_->Ctr({"containers", "rm", "plat2"});

  // Without it, the host's.
  r = Berth({"containers", "create", "--pull", "never", "berth/two:1", "plat3"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto config = nlohmann::json::parse(ReadFile(LayoutBlobPath(
      layout_, nlohmann::json::parse(ReadFile(LayoutBlobPath(layout_, LayoutManifestDigest(layout_, "latest"))))
                   ["config"]["digest"])));
  const std::string host_chain = config["rootfs"]["diff_ids"][0];  // one layer: its diff id
  EXPECT_THAT(daemon_->Ctr({"snapshots", "info", "plat3"}).out, HasSubstr("\"Parent\": \"" + host_chain + "\""));
  EXPECT_THAT(daemon_->Ctr({"containers", "info", "plat3"}).out, Not(HasSubstr("berth.test.platform")));
  // A platform the image does not have is a clear error, and leaves nothing.
  r = Berth({"containers", "create", "--pull", "never", "--platform", "linux/s390x", "berth/two:1", "plat4"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("berth/two:1 for platform linux/s390x")) << Describe(r);
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("plat4")));
  for (const char* id : {"plat1", "plat3"}) {
    r = daemon_->Ctr({"containers", "rm", id});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  }
  daemon_->Ctr({"images", "rm", "berth/two:1"});
}

// berth started in the background with its output to `out`, as from an interactive shell
// (SIGINT and SIGTERM not ignored).
pid_t Spawn(std::vector<std::string> argv, const fs::path& out) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// The exit code of `pid` once it exits within `timeout` (128 + signal if killed); -1 if it
// did not (it is then killed).
int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST_F(BerthRunE2E, InterruptDuringThePullCancelsIt) {
  MkimageOptions opts;
  opts.big_mb = 16;
  const fs::path big = BuildTestImage(dir_->path() / "big-layout", opts);
  ASSERT_FALSE(big.empty());
  std::string err;
  ASSERT_TRUE(registry_->Push(big, "latest", "berth/big:1", &err)) << err;
  // Through a proxy answering at 1 MiB/s: the pull is still running when berth is interrupted.
  BackgroundProcess proxy({"python3", (fs::path(BERTH_SOURCE_DIR) / "tests/e2e/throttle_proxy.py").string(),
                           registry_->host().substr(registry_->host().find(':') + 1), std::to_string(1 << 20)},
                          dir_->path() / "proxy.out");
  ASSERT_TRUE(WaitUntil([&] { return !proxy.Output().empty(); }));
  const std::string ref = "127.0.0.1:" + proxy.Output().substr(0, proxy.Output().find('\n')) + "/berth/big:1";

  const fs::path out = dir_->path() / "interrupted.out";
  pid_t pid = Spawn(BerthArgv({"run", "--rm", "--pull", "always", "--plain-http", ref, "int1", "true"}), out);
  ASSERT_GT(pid, 0);
  auto client = client::Client::Connect(Socket(), Namespace());
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  bool downloading = WaitUntil(
      [&] {
        auto ingests = (*client)->ListIngestStatuses();
        if (!ingests.ok()) return false;
        for (const auto& st : *ingests) {
          if (st.ref.starts_with("layer-") && st.offset >= (1 << 20)) return true;
        }
        return false;
      },
      30s);
  ::kill(pid, SIGINT);
  const auto sent = std::chrono::steady_clock::now();
  const int code = WaitExit(pid, 10s);
  const auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(downloading) << ReadFile(out);
  EXPECT_EQ(code, 130) << ReadFile(out);
  EXPECT_LT(took, 3s) << ReadFile(out);
  EXPECT_THAT(ReadFile(out), HasSubstr("berth: interrupted (SIGINT): the pull of " + ref + " was canceled"));
  // Nothing made: no container, no image, no lease holding what was fetched.
  EXPECT_THAT(daemon_->Ctr({"containers", "ls", "-q"}).out, Not(HasSubstr("int1")));
  EXPECT_THAT(daemon_->Ctr({"images", "ls", "-q"}).out, Not(HasSubstr("berth/big")));
  auto leases = (*client)->ListLeases();
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  EXPECT_TRUE(leases->empty()) << leases->size() << " leases left";
}

}  // namespace
}  // namespace berth::e2e
