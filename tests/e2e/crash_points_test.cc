// Crash points (issue 18): berthd is killed with SIGKILL at a named point inside a real
// operation driven by ctr (common/crash_point.h: BERTH_CRASH_POINT=<point>[@n] in its
// environment), restarted, and checked:
//   - the daemon comes back and a task started before the crash still runs and takes an exec;
//   - every blob `ctr content ls` lists reads back with its digest, and the blob files on disk
//     are exactly those (nothing half-written is listed, orphan files are gone after the
//     start-up collection); every image is complete;
//   - every snapshot listed has its directories, and no directory is left that no snapshot
//     owns (staging, trash or orphans);
//   - every container listed reads back; the task bundles, shim processes and rootfs mounts
//     are exactly those of the tasks listed (none orphaned, none lost);
//   - the interrupted operation, repeated, completes, and the checks hold again;
//   - everything is then removed and nothing is left: mounts, processes, cgroups.
// Each case prints one row of the table: point, operation, invariants held.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/crash_point.h"
#include "common/digest.h"
#include "harness.h"
#include "registry.h"
#include "text_lines.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kNs = "crashpoints";

struct CrashCase {
  const char* name;        // the gtest suffix
  const char* point;       // BERTH_CRASH_POINT
  const char* operation;   // what is interrupted, for the table
};

// gtest names the case by the point (not a dump of the struct's bytes).
void PrintTo(const CrashCase& c, std::ostream* os) { *os << c.point << " during " << c.operation; }

// The operations, by the `operation` name; each has its set-up (made before the crash point
// is armed), its command (interrupted), and its repeat (after the restart; must succeed).
const CrashCase kCases[] = {
    {"PullIngestWrite", "content.ingest.write@2", "pull"},
    {"PullBlobVerified", "content.commit.verified", "pull"},
    {"PullBlobInstalled", "content.commit.installed", "pull"},
    {"PullBlobRecorded", "content.commit.recorded", "pull"},
    {"PullUnpackEntry", "diff.apply.entry@3", "pull"},
    {"PullSnapshotStaged", "snapshot.create.staged", "pull"},
    {"PullSnapshotRenamed", "snapshot.create.renamed", "pull"},
    {"PullSnapshotCommit", "snapshot.commit.measured", "pull"},
    {"IngestWrite", "content.ingest.write", "content ingest"},
    {"IngestInstalled", "content.commit.installed", "content ingest"},
    {"SnapshotPrepare", "snapshot.create.renamed", "snapshot prepare"},
    {"SnapshotCommit", "snapshot.commit.measured", "snapshot commit"},
    {"SnapshotRemoveCommitted", "snapshot.remove.committed", "snapshot remove"},
    {"SnapshotRemoveTrashed", "snapshot.remove.trashed", "snapshot remove"},
    {"ContainerCreate", "container.create.committed", "container create"},
    {"ContainerDelete", "container.delete.committed", "container delete"},
    {"TaskShimStarted", "task.create.shim_started", "task create"},
    {"TaskCreated", "task.create.created", "task create"},
    {"TaskStarted", "task.start.started", "task start"},
    {"TaskDeleteShimDeleted", "task.delete.shim_deleted", "task delete"},
    // The first collection is berthd's own at start-up; the second is the image removal's.
    {"GcCommitted", "gc.sweep.committed@2", "gc (image rm --sync)"},
    {"GcFileRemoved", "gc.sweep.file", "gc (image rm --sync)"},
};

class CrashPointsTest : public ::testing::TestWithParam<CrashCase> {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    auto base = BuildTestImage(suite_dir_->path() / "base", {.tag = "v1", .layers = 2});
    ASSERT_FALSE(base.empty());
    // The image the interrupted pulls fetch: more layers, and one of 3 MiB (several writes).
    auto next = BuildTestImage(suite_dir_->path() / "next",
                               {.tag = "v2", .layers = 3, .greeting = "next image", .big_mb = 3});
    ASSERT_FALSE(next.empty());
    registry_ = TestRegistry::Start(suite_dir_->path() / "registry").release();
    ASSERT_NE(registry_, nullptr);
    ASSERT_TRUE(registry_->Push(base, "v1", "base:v1"));
    ASSERT_TRUE(registry_->Push(next, "v2", "next:v2"));
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(registry_, nullptr);
    dir_ = std::make_unique<TempDir>();
    base_ = registry_->Ref("base:v1");
    next_ = registry_->Ref("next:v2");
    // Ids unique to the case: the cgroup paths (/<ns>/<id>) are the host's, shared by tests
    // that run at the same time.
    suffix_ = GetParam().name;
    std::transform(suffix_.begin(), suffix_.end(), suffix_.begin(), [](unsigned char c) { return std::tolower(c); });
    survivor_ = "survivor-" + suffix_;
    target_ = "target-" + suffix_;
    daemon_ = std::make_unique<Berthd>(dir_->path());
  }

  void TearDown() override {
    // A failure may have left the daemon dead with tasks running: a fresh one cleans them up.
    if (dir_ && (!daemon_ || !daemon_->running())) {
      daemon_.reset();
      daemon_ = std::make_unique<Berthd>(dir_->path());
    }
    if (daemon_ && daemon_->running()) {
      for (const auto& id : Lines(Ctr({"task", "ls", "-q"}).out)) Ctr({"task", "rm", "-f", id});
      for (const auto& id : Lines(Ctr({"container", "ls", "-q"}).out)) Ctr({"container", "rm", id});
      EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
    }
    daemon_.reset();
    if (dir_) {
      EXPECT_TRUE(MountsUnder(dir_->path()).empty());
      for (const auto& m : MountsUnder(dir_->path())) ::umount2(m.c_str(), MNT_DETACH);
      EXPECT_TRUE(ProcessesMentioning(dir_->path().string()).empty());
      for (const auto& id : {survivor_, target_}) {
        EXPECT_TRUE(ContainerCgroupsLeft(kNs, id).empty()) << id;
      }
    }
    dir_.reset();
  }

  CommandResult Ctr(std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) const {
    args.insert(args.begin(), {"-n", kNs});
    return daemon_->Ctr(args, timeout);
  }
  void MustCtr(const std::vector<std::string>& args) const {
    auto r = Ctr(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  // What the operation needs before the point is armed.
  void SetUpOperation(const std::string& op) {
    if (op == "snapshot commit" || op == "snapshot remove") {
      MustCtr({"snapshots", "prepare", target_});
      // ctr makes it without a lease: a root label keeps it from the collections meanwhile.
      MustCtr({"snapshots", "label", target_, "containerd.io/gc.root=crashpoints"});
    } else if (op == "container delete") {
      MustCtr({"containers", "create", base_, target_});
    } else if (op == "task start") {
      MustCtr({"containers", "create", base_, target_, "sleep", "100000"});
    } else if (op == "task delete") {
      MustCtr({"run", "-d", base_, target_, "sleep", "100000"});
    } else if (op.starts_with("gc")) {
      MustCtr({"images", "pull", "--plain-http", next_});
    }
  }

  // The interrupted command; its result is not checked (berthd dies under it).
  CommandResult RunOperation(const std::string& op) {
    if (op == "pull") return Ctr({"images", "pull", "--plain-http", next_});
    if (op == "content ingest") {
      std::string cmd = "head -c 3145728 /dev/urandom > " + (dir_->path() / "blob").string() + " && " +
                        "exec " + JoinArgs(daemon_->CtrArgv({"-n", kNs, "content", "ingest", "crash-ingest"})) +
                        " < " + (dir_->path() / "blob").string();
      return e2e::Run({"sh", "-c", cmd}, 120s);
    }
    if (op == "snapshot prepare") return Ctr({"snapshots", "prepare", target_});
    if (op == "snapshot commit") return Ctr({"snapshots", "commit", target_ + "-c", target_});
    if (op == "snapshot remove") return Ctr({"snapshots", "rm", target_});
    if (op == "container create") return Ctr({"containers", "create", base_, target_});
    if (op == "container delete") return Ctr({"containers", "rm", target_});
    if (op == "task create") return Ctr({"run", "-d", base_, target_, "sleep", "100000"});
    if (op == "task start") return Ctr({"task", "start", "-d", target_});
    if (op == "task delete") return Ctr({"task", "rm", "-f", target_});
    return Ctr({"images", "rm", "--sync", next_});
  }

  // The operation again after the restart, from whatever the crash left: it must complete.
  void RepeatOperation(const std::string& op) {
    if (op == "pull") {
      MustCtr({"images", "pull", "--plain-http", next_});
      auto greeting = Ctr({"run", "--rm", next_, target_, "cat", "/etc/greeting"});
      ASSERT_EQ(greeting.exit_code, 0) << Describe(greeting);
      EXPECT_EQ(greeting.out, "next image\n");
    } else if (op == "content ingest") {
      Ctr({"content", "rm", "crash-ingest"});
      auto r = RunOperation(op);
      ASSERT_EQ(r.exit_code, 0) << Describe(r);
    } else if (op == "snapshot prepare") {
      Ctr({"snapshots", "rm", target_});
      MustCtr({"snapshots", "prepare", target_});
      MustCtr({"snapshots", "rm", target_});
    } else if (op == "snapshot commit") {
      // Committed before the crash or still active: either way one of the two names exists.
      if (Ctr({"snapshots", "info", target_}).exit_code == 0) MustCtr({"snapshots", "commit", target_ + "-c", target_});
      MustCtr({"snapshots", "rm", target_ + "-c"});
    } else if (op == "snapshot remove") {
      Ctr({"snapshots", "rm", target_});
      EXPECT_NE(Ctr({"snapshots", "info", target_}).exit_code, 0);
    } else if (op == "container create" || op == "container delete") {
      Ctr({"containers", "rm", target_});
      MustCtr({"containers", "create", base_, target_});
      MustCtr({"containers", "rm", target_});
    } else if (op == "task create" || op == "task start") {
      Ctr({"task", "rm", "-f", target_});
      Ctr({"containers", "rm", target_});
      MustCtr({"run", "-d", base_, target_, "sleep", "100000"});
      MustCtr({"task", "rm", "-f", target_});
      MustCtr({"containers", "rm", target_});
    } else if (op == "task delete") {
      Ctr({"task", "rm", "-f", target_});
      EXPECT_NE(Ctr({"task", "ps", target_}).exit_code, 0);
      MustCtr({"containers", "rm", target_});
    } else {
      Ctr({"images", "rm", "--sync", next_});
      MustCtr({"images", "pull", "--plain-http", next_});
      MustCtr({"images", "rm", "--sync", next_});
    }
  }

  // berthd's log lines that mention `what` or a collection (for failure messages).
  std::string LogAbout(const std::string& what) const {
    std::string out = "\nberthd's log about " + what + ":\n";
    for (const auto& line : Lines(daemon_->Log())) {
      if (line.find(what) != std::string::npos || line.find("garbage collected") != std::string::npos ||
          line.find("crash point") != std::string::npos || line.find("berthd serving") != std::string::npos) {
        out += line + "\n";
      }
    }
    return out;
  }

  static std::string JoinArgs(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) out += (out.empty() ? "" : " ") + ("'" + a + "'");
    return out;
  }

  // ---- the invariants ----

  void SurvivorRuns() {
    auto ls = Ctr({"task", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
    bool running = false;
    for (const auto& line : Lines(ls.out)) {
      if (line.starts_with(survivor_ + " ") && line.find("RUNNING") != std::string::npos) running = true;
    }
    EXPECT_TRUE(running) << ls.out;
    auto exec = Ctr({"task", "exec", "--exec-id", "probe", survivor_, "cat", "/etc/greeting"});
    EXPECT_EQ(exec.exit_code, 0) << Describe(exec);
  }

  void BlobsIntact() {
    auto ls = Ctr({"content", "ls", "-q"});
    ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
    std::set<std::string> listed;
    for (const auto& digest : Lines(ls.out)) {
      auto get = Ctr({"content", "get", digest});
      ASSERT_EQ(get.exit_code, 0) << Describe(get);
      auto actual = DigestOf("sha256", get.out);
      ASSERT_TRUE(actual.ok());
      EXPECT_EQ(actual->String(), digest) << "blob read back with another digest";
      listed.insert(digest.substr(digest.find(':') + 1));
    }
    std::set<std::string> on_disk;
    fs::path blobs = daemon_->root() / "content" / "blobs" / "sha256";
    if (fs::exists(blobs)) {
      for (const auto& e : fs::directory_iterator(blobs)) on_disk.insert(e.path().filename().string());
    }
    EXPECT_EQ(on_disk, listed) << "blob files on disk that no namespace lists (or listed blobs without files)";
    auto check = Ctr({"images", "check"});
    ASSERT_EQ(check.exit_code, 0) << Describe(check);
    for (const auto& line : Lines(check.out)) {
      if (line.starts_with("REF")) continue;
      EXPECT_NE(line.find("complete"), std::string::npos) << line;
    }
  }

  void SnapshotsIntact() {
    auto ls = Ctr({"snapshots", "ls"});
    ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
    std::vector<std::pair<std::string, std::string>> listed;  // key, kind
    for (const auto& line : Lines(ls.out)) {
      if (line.starts_with("KEY")) continue;
      std::istringstream in(line);
      std::vector<std::string> words;
      for (std::string w; in >> w;) words.push_back(w);
      if (words.size() < 2) continue;
      // KEY PARENT KIND, the parent possibly empty; an unpack's key is "extract-<n>-<r> <chain id>".
      std::string key = words[0];
      if (key.starts_with("extract-") && words.size() >= 3) key += " " + words[1];
      listed.emplace_back(key, words.back());
    }
    size_t dirs = 0;
    fs::path snapshots = daemon_->root() / "snapshots" / "overlayfs" / "snapshots";
    if (fs::exists(snapshots)) {
      for (const auto& e : fs::directory_iterator(snapshots)) {
        std::string name = e.path().filename().string();
        EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
            << "left in the snapshot directory: " << name;
        ++dirs;
      }
    }
    EXPECT_EQ(dirs, listed.size()) << "snapshot directories that no snapshot owns (or the reverse)";
    // Each one's directories are there: an active one's mounts; a committed one's through a
    // view on it (removed again).
    for (const auto& [key, kind] : listed) {
      const bool committed = kind == "Committed";
      const std::string probe = "probe-" + suffix_;
      auto mounts = committed ? Ctr({"snapshots", "view", "-t", "/mnt", probe, key}) : Ctr({"snapshots", "mounts", "/mnt", key});
      ASSERT_EQ(mounts.exit_code, 0) << key << " " << kind << ": " << Describe(mounts) << LogAbout("snapshot");
      for (const auto& path : MountPaths(mounts.out)) {
        EXPECT_TRUE(fs::exists(path)) << "snapshot " << key << ": " << path << " is gone";
      }
      // (ctr makes the view without a lease: a collection may have taken it already.)
      if (committed) Ctr({"snapshots", "rm", probe});
    }
  }

  // The directories a `ctr snapshots mounts` command line names (overlay's dirs, a bind source).
  static std::vector<fs::path> MountPaths(const std::string& text) {
    std::vector<fs::path> out;
    std::istringstream words(text);
    std::string w;
    std::vector<std::string> all;
    while (words >> w) all.push_back(w);
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i] == "-o" && i + 1 < all.size()) {
        std::istringstream opts(all[i + 1]);
        std::string opt;
        while (std::getline(opts, opt, ',')) {
          for (const char* k : {"upperdir=", "workdir=", "lowerdir="}) {
            if (!opt.starts_with(k)) continue;
            std::istringstream dirs(opt.substr(std::string_view(k).size()));
            std::string d;
            while (std::getline(dirs, d, ':')) out.emplace_back(d);
          }
        }
      } else if (all[i].starts_with("/") && all[i] != "/mnt") {
        out.emplace_back(all[i]);  // a bind mount's source
      }
    }
    return out;
  }

  void TasksAndContainersIntact() {
    std::set<std::string> tasks;
    for (const auto& id : Lines(Ctr({"task", "ls", "-q"}).out)) tasks.insert(id);
    for (const auto& id : Lines(Ctr({"container", "ls", "-q"}).out)) {
      auto info = Ctr({"container", "info", id});
      EXPECT_EQ(info.exit_code, 0) << Describe(info);
      EXPECT_NE(info.out.find("\"Spec\""), std::string::npos) << info.out;
    }
    std::set<std::string> bundles;
    fs::path ns_bundles = daemon_->state() / "io.containerd.runtime.v2.task" / kNs;
    if (fs::exists(ns_bundles)) {
      for (const auto& e : fs::directory_iterator(ns_bundles)) bundles.insert(e.path().filename().string());
    }
    EXPECT_EQ(bundles, tasks) << "task bundles without a task (or tasks without a bundle)";
    std::set<std::string> rootfs;
    for (const auto& id : tasks) rootfs.insert((ns_bundles / id / "rootfs").string());
    std::set<std::string> mounts;
    for (const auto& m : MountsUnder(dir_->path())) mounts.insert(m);
    EXPECT_EQ(mounts, rootfs) << "mounts other than the tasks' root filesystems";
    size_t shims = 0;
    for (const auto& p : ProcessesMentioning(daemon_->socket().string())) {
      if (p.find("-id ") != std::string::npos) ++shims;
    }
    EXPECT_EQ(shims, tasks.size()) << "shim processes that no task owns (or tasks without a shim)";
  }

  void CheckInvariants(const std::string& when) {
    SCOPED_TRACE(when);
    SurvivorRuns();
    BlobsIntact();
    SnapshotsIntact();
    TasksAndContainersIntact();
  }

  static TempDir* suite_dir_;
  static TestRegistry* registry_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
  std::string base_, next_, suffix_, survivor_, target_;
};

TempDir* CrashPointsTest::suite_dir_ = nullptr;
TestRegistry* CrashPointsTest::registry_ = nullptr;

TEST_P(CrashPointsTest, InvariantsHoldAfterSigkillAt) {
  const CrashCase& c = GetParam();
  const std::string op = c.operation;
  MustCtr({"images", "pull", "--plain-http", base_});
  MustCtr({"run", "-d", base_, survivor_, "sleep", "100000"});
  SetUpOperation(op);
  if (HasFatalFailure()) return;

  // Armed: the same dirs, a daemon that dies at the point.
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  daemon_ = std::make_unique<Berthd>(dir_->path(), std::vector<std::string>{},
                                     std::vector<std::string>{std::string(kCrashPointEnv) + "=" + c.point});
  auto interrupted = RunOperation(op);
  int status = daemon_->WaitForExit(30s);
  if (status == -1) {
    FAIL() << "crash point " << c.point << " not reached by " << op << ": " << Describe(interrupted);
  }
  ASSERT_EQ(status, 137) << daemon_->Log();
  std::string point = c.point;
  if (point.find('@') == std::string::npos) point += "@1";
  ASSERT_NE(daemon_->Log().find("crash point " + point + " reached"), std::string::npos) << daemon_->Log();
  EXPECT_NE(interrupted.exit_code, 0) << "the client saw success from a daemon killed under it";

  // Restarted, unarmed: recovery at start-up, then the invariants.
  daemon_ = std::make_unique<Berthd>(dir_->path());
  CheckInvariants("after the restart");
  if (HasFatalFailure()) return;
  RepeatOperation(op);
  if (HasFatalFailure()) return;
  CheckInvariants("after the operation was repeated");
  std::cout << "| " << c.point << " | " << op << " | "
            << (HasFailure() ? "FAILED" : "killed; restarted; every invariant held; repeat completed") << " |\n";
}

INSTANTIATE_TEST_SUITE_P(Points, CrashPointsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<CrashCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace berth::e2e
