// Checkpoint/restore through containerd's API with the real ctr: `ctr c checkpoint` (the OCI
// index the Go client composes from berthd's task blobs), `ctr c restore --live`, `ctr t
// checkpoint`, and what a failure leaves (nothing: no blob, ingest, scratch dir, lease or image).
//
// Most tests need no criu: the container runs under a stand-in runtime (checkpoint_support.h: a
// shell script passed as `ctr run --runc-binary`) whose `checkpoint` writes a few fake image files
// and whose `restore` checks them and creates the container afresh with runc; everything else is
// runc's. A fake `criu` on berthd's PATH answers the shim's `criu check` where the test needs a
// verdict. The CheckpointRealCriuE2E tests run only where a real criu passes `criu check`
// ($BERTH_CRIU or PATH) and are skipped elsewhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "checkpoint_support.h"
#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using nlohmann::json;

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs argv on a pseudo-terminal (util-linux script): `ctr run -t` needs a console on its stdio.
CommandResult RunOnPty(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) cmd += ShellQuote(a) + " ";
  return e2e::Run({"script", "-q", "-e", "-c", cmd, "/dev/null"}, 60s, {"SHELL=/bin/sh"});
}

class CheckpointE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_FALSE(SuiteImage::Ref().empty()); }
  static void TearDownTestSuite() { SuiteImage::Reset(); }

  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    image_ = SuiteImage::Ref();
    ASSERT_FALSE(image_.empty());
  }

  void TearDown() override {
    TearDownDaemons({daemon_.get()}, ids_);
    daemon_.reset();
    dir_.reset();
  }

  // Starts berthd with `env` set in its environment and pulls the test image into it.
  void StartDaemon(std::vector<std::string> env = {}, bool pull = true) {
    daemon_ = std::make_unique<Berthd>(dir_->path() / "d", std::vector<std::string>{}, std::move(env));
    ASSERT_TRUE(daemon_->running()) << daemon_->Log();
    if (!pull) return;
    auto r = Ctr({"images", "pull", "--plain-http", image_}, 120s);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  // A directory holding a fake `criu` (for berthd's PATH).
  fs::path FakeCriuDir(const std::string& name, const std::string& script) {
    return WriteFakeCriu(dir_->path() / name, script);
  }

  fs::path StandIn() { return e2e::StandIn(dir_->path()); }
  // The file that makes the stand-in's checkpoint fail while it exists.
  fs::path FailMarker() const { return dir_->path() / "fail-checkpoint"; }
  std::string StandInLog() const { return e2e::StandInLog(dir_->path()); }
  // The stand-in's last log line for `sub` (checkpoint|restore), "" if none.
  std::string LastStandInCall(const std::string& sub) const {
    const auto calls = StandInCalls(dir_->path(), sub);
    return calls.empty() ? "" : calls.back();
  }

  std::string Track(const std::string& name) {
    ids_.push_back(Id(name));
    return ids_.back();
  }

  CommandResult Ctr(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s) const {
    return daemon_->Ctr(args, timeout);
  }

  // `ctr run -d` of `args` (the command) in container `id`, under `runtime` unless empty.
  void RunDetached(const std::string& id, const std::vector<std::string>& args, const fs::path& runtime = {}) {
    std::vector<std::string> argv = {"run", "-d"};
    if (!runtime.empty()) argv.insert(argv.end(), {"--runc-binary", runtime.string()});
    argv.push_back(image_);
    argv.push_back(id);
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = Ctr(argv);
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
    ASSERT_EQ(TaskStatus(id), "RUNNING");
  }

  std::string TaskStatus(const std::string& id) const { return e2e::TaskStatus(*daemon_, id); }

  // SIGKILL, wait for the exit, delete the task (the container stays).
  void RemoveTask(const std::string& id) {
    auto k = Ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(k.exit_code, 0) << Describe(k);
    EXPECT_TRUE(WaitUntil([&] { return TaskStatus(id) == "STOPPED"; })) << Ctr({"task", "ls"}).out;
    auto rm = Ctr({"task", "rm", id});
    EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  }

  void RemoveContainer(const std::string& id) {
    RemoveTask(id);
    auto rm = Ctr({"container", "rm", id});
    EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  }

  fs::path Bundle(const std::string& id) const { return e2e::Bundle(*daemon_, id); }

  // What is left in berthd's checkpoint scratch directory (<root>/tmpcheckpoints).
  std::vector<std::string> ScratchLeft() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(daemon_->root() / "tmpcheckpoints", ec)) {
      out.push_back(e.path().string());
    }
    return out;
  }

  std::set<std::string> Content() const { return e2e::Content(*daemon_); }
  std::vector<std::string> ActiveIngests() const { return Rows(Ctr({"content", "active"}).out); }
  std::vector<std::string> Leases() const { return Rows(Ctr({"leases", "ls"}).out); }
  std::vector<std::string> Images() const { return e2e::Images(*daemon_); }

  // The target digest of image `ref` ("" if there is none).
  std::string ImageDigest(const std::string& ref) const { return e2e::ImageDigest(*daemon_, ref); }

  // The OCI index a checkpoint image `ref` points at (discarded json if unreadable).
  json Index(const std::string& ref) const {
    const std::string digest = ImageDigest(ref);
    if (digest.empty()) return json::value_t::discarded;
    return json::parse(Ctr({"content", "get", digest}).out, nullptr, false);
  }

  // After a failed checkpoint into `ref`: nothing of it left in the content store (the blobs the
  // client wrote under its lease are collected once the lease is gone), no ingest, no scratch
  // directory, no lease, no image.
  void ExpectNothingLeftOf(const std::string& ref, const std::set<std::string>& content_before) {
    EXPECT_TRUE(WaitUntil([&] { return Content() == content_before; }))
        << "content after: " << ::testing::PrintToString(Content())
        << "\nbefore: " << ::testing::PrintToString(content_before);
    EXPECT_THAT(ActiveIngests(), IsEmpty());
    EXPECT_THAT(ScratchLeft(), IsEmpty());
    EXPECT_THAT(Leases(), IsEmpty());
    EXPECT_THAT(Images(), Not(Contains(ref)));
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
  std::string image_;
  std::vector<std::string> ids_;  // containers whose cgroups must be gone at the end
};

// ---- with the stand-in runtime: everywhere ----

TEST_F(CheckpointE2E, ContainerCheckpointWritesTheIndexAndLeavesTheTaskRunning) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string c1 = Track("c1");
  ASSERT_NO_FATAL_FAILURE(RunDetached(c1, {"sleep", "1000"}, StandIn()));
  BackgroundProcess events(daemon_->CtrArgv({"events"}), dir_->path() / "events.out");
  std::this_thread::sleep_for(300ms);

  auto ck = Ctr({"container", "checkpoint", "--task", "--rw", "--image", c1, "ck:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  EXPECT_THAT(Images(), Contains("ck:1"));

  // The index as containerd 1.6's client composes it from berthd's answers.
  json ck_index = Index("ck:1");
  ASSERT_TRUE(ck_index.is_object()) << Ctr({"images", "ls"}).out;
  for (const char* type : {kCriuTar, kConfig, kOptions, kRuntimeOptions, kGzipLayer}) {
    EXPECT_FALSE(ManifestOf(ck_index, type).is_null()) << type << " missing from " << ck_index.dump(2);
  }
  const std::string base = ImageDigest(image_);
  bool has_base = false;
  for (const auto& m : ck_index["manifests"]) has_base = has_base || m.value("digest", "") == base;
  EXPECT_TRUE(has_base) << "--image adds the image's target " << base << ": " << ck_index.dump(2);
  const json ann = ck_index.value("annotations", json::object());
  EXPECT_EQ(ann.value("io.containerd.checkpoint.runtime", ""), "io.containerd.runc.v2") << ck_index.dump(2);
  EXPECT_EQ(ann.value("io.containerd.checkpoint.snapshotter", ""), "overlayfs") << ck_index.dump(2);
  EXPECT_EQ(ann.value("org.opencontainers.image.ref.name", ""), image_) << ck_index.dump(2);

  // The criu blob is a tar of what the runtime dumped; the config blob is the container's spec.
  const json tar = ManifestOf(ck_index, kCriuTar);
  ASSERT_FALSE(tar.is_null());
  const std::string tar_digest = tar.value("digest", "");
  auto blob = Ctr({"content", "get", tar_digest});
  ASSERT_EQ(blob.exit_code, 0) << Describe(blob);
  EXPECT_EQ(blob.out.size(), tar.value("size", uint64_t{0}));
  std::vector<std::string> list = {"sh", "-c", "\"$@\" | tar -tf -", "sh"};
  for (const auto& a : daemon_->CtrArgv({"content", "get", tar_digest})) list.push_back(a);
  auto listed = e2e::Run(list);
  EXPECT_EQ(listed.exit_code, 0) << Describe(listed);
  for (const char* f : {"core-1.img", "inventory.img", "pages-1.img"}) EXPECT_THAT(listed.out, HasSubstr(f));
  const json config = ManifestOf(ck_index, kConfig);
  ASSERT_FALSE(config.is_null());
  auto spec = Ctr({"content", "get", config.value("digest", "")});
  EXPECT_THAT(spec.out, HasSubstr("opencontainers/runtime-spec")) << Describe(spec);
  EXPECT_THAT(spec.out, HasSubstr("sleep"));
  const json runtime_options = ManifestOf(ck_index, kRuntimeOptions);
  ASSERT_FALSE(runtime_options.is_null());
  EXPECT_THAT(Ctr({"content", "get", runtime_options.value("digest", "")}).out, HasSubstr(StandIn().string()))
      << "the runtime options name the stand-in (binary_name)";

  // containerd's defaults reach the runtime: leave running, file locks; no terminal, no shell job.
  const std::string call = LastStandInCall("checkpoint");
  EXPECT_THAT(call, HasSubstr("--leave-running")) << StandInLog();
  EXPECT_THAT(call, HasSubstr("--file-locks")) << StandInLog();
  EXPECT_THAT(call, Not(HasSubstr("--shell-job"))) << StandInLog();
  EXPECT_THAT(call, HasSubstr("--image-path " + (daemon_->root() / "tmpcheckpoints").string() + "/")) << call;
  EXPECT_THAT(call, HasSubstr(" " + c1)) << call;
  EXPECT_EQ(TaskStatus(c1), "RUNNING") << "ctr paused the task and resumed it after the checkpoint";

  // Nothing half-done is left.
  EXPECT_THAT(ScratchLeft(), IsEmpty());
  EXPECT_THAT(ActiveIngests(), IsEmpty());
  EXPECT_TRUE(WaitUntil([&] { return Leases().empty(); })) << ::testing::PrintToString(Leases());
  EXPECT_TRUE(events.WaitForOutput("/tasks/checkpointed", 10s)) << events.Output();
  EXPECT_THAT(events.Output(), HasSubstr(c1));

  RemoveContainer(c1);
  auto rmi = Ctr({"images", "rm", "ck:1"});
  EXPECT_EQ(rmi.exit_code, 0) << Describe(rmi);
}

TEST_F(CheckpointE2E, ContainerRestoreLiveStartsTheTaskFromTheCheckpoint) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string c1 = Track("r1"), c2 = Track("r2");
  ASSERT_NO_FATAL_FAILURE(RunDetached(c1, {"sleep", "1000"}, StandIn()));
  auto ck = Ctr({"container", "checkpoint", "--task", "--rw", c1, "ck:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  // The checkpoint image is all a restore needs: c1 goes entirely.
  RemoveContainer(c1);

  auto restore = Ctr({"container", "restore", "--live", c2, "ck:1"});
  ASSERT_EQ(restore.exit_code, 0) << Describe(restore) << daemon_->Log();
  EXPECT_EQ(TaskStatus(c2), "RUNNING") << Ctr({"task", "ls"}).out;
  // The stand-in was asked to restore c2 in its bundle from the unpacked criu tar, whose files
  // (c1's dump) were there.
  const std::string call = LastStandInCall("restore");
  EXPECT_THAT(call, HasSubstr("--image-path " + (Bundle(c2) / "checkpoint").string())) << StandInLog();
  EXPECT_THAT(call, HasSubstr("--bundle " + Bundle(c2).string())) << call;
  EXPECT_THAT(call, HasSubstr("--detach")) << call;
  EXPECT_THAT(call, HasSubstr("--pid-file ")) << call;
  EXPECT_THAT(StandInLog(), HasSubstr("images present: " + c1));
  auto ps = Ctr({"task", "ps", c2});
  EXPECT_EQ(ps.exit_code, 0) << Describe(ps);
  EXPECT_EQ(Rows(ps.out).size(), 1u) << "the restored init, pid from the runtime's pid file: " << ps.out;

  RemoveContainer(c2);
  EXPECT_FALSE(fs::exists(Bundle(c2))) << "bundle left behind: " << Bundle(c2);
  EXPECT_THAT(ContainerCgroupsLeft("default", c2), IsEmpty());
  EXPECT_THAT(ContainerCgroupsLeft("default", c1), IsEmpty()) << "the restored spec is c1's, cgroup path too";
  EXPECT_EQ(Ctr({"images", "rm", "ck:1"}).exit_code, 0);
}

TEST_F(CheckpointE2E, FailedCheckpointLeavesNothingAndTheTaskRunning) {
  // A criu that passes `criu check`: the failure is the runtime's, and its log is kept.
  ASSERT_NO_FATAL_FAILURE(StartDaemon({PathWith(FakeCriuDir("good-criu", kGoodCriu))}));
  const std::string c3 = Track("f3");
  ASSERT_NO_FATAL_FAILURE(RunDetached(c3, {"sleep", "1000"}, StandIn()));
  const auto before = Content();
  std::ofstream(FailMarker()) << "fail\n";

  auto ck = Ctr({"container", "checkpoint", "--task", c3, "ck:2"});
  EXPECT_NE(ck.exit_code, 0) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("checkpoint failed")) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("stand-in checkpoint of " + c3 + " failed: marker present")) << Describe(ck);
  const fs::path kept = Bundle(c3) / "criu-dump.log";
  EXPECT_THAT(ck.err, HasSubstr("path= " + kept.string())) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr(": unknown")) << "an Unknown error when criu itself is usable: " << Describe(ck);
  EXPECT_THAT(ReadFile(kept), HasSubstr("stand-in dump of " + c3 + " refused")) << "criu's dump.log kept";
  EXPECT_THAT(LastStandInCall("checkpoint"), HasSubstr(c3)) << StandInLog();

  ExpectNothingLeftOf("ck:2", before);
  EXPECT_EQ(TaskStatus(c3), "RUNNING") << "ctr resumed the task after the failed checkpoint";
  EXPECT_FALSE(fs::exists(Bundle(c3) / "criu-work")) << "the shim's criu work dir is removed";

  // Once the runtime can, the same checkpoint works.
  fs::remove(FailMarker());
  auto again = Ctr({"container", "checkpoint", "--task", c3, "ck:2"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again) << daemon_->Log();
  EXPECT_THAT(Images(), Contains("ck:2"));
  RemoveContainer(c3);
  EXPECT_EQ(Ctr({"images", "rm", "ck:2"}).exit_code, 0);
}

TEST_F(CheckpointE2E, RestoreWithoutTheCriuBlobIsNotFoundAndCreatesNoTask) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string src = Track("m0"), c4 = Track("m4");
  ASSERT_NO_FATAL_FAILURE(RunDetached(src, {"sleep", "1000"}, StandIn()));
  auto ck = Ctr({"container", "checkpoint", "--task", src, "ck:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  RemoveContainer(src);
  const json tar = ManifestOf(Index("ck:1"), kCriuTar);
  ASSERT_FALSE(tar.is_null());
  auto rm = Ctr({"content", "rm", tar.value("digest", "")});
  ASSERT_EQ(rm.exit_code, 0) << Describe(rm);

  auto restore = Ctr({"container", "restore", "--live", c4, "ck:1"});
  EXPECT_NE(restore.exit_code, 0) << Describe(restore);
  EXPECT_THAT(restore.err, HasSubstr("not found")) << Describe(restore);
  EXPECT_THAT(TaskStatuses(Ctr({"task", "ls"}).out), Not(Contains(::testing::Key(c4))));
  EXPECT_FALSE(fs::exists(Bundle(c4))) << "bundle left behind: " << Bundle(c4);
  EXPECT_EQ(LastStandInCall("restore"), "") << "the runtime was never asked: " << StandInLog();
  EXPECT_THAT(ScratchLeft(), IsEmpty());
  // The client made the container before the task failed; it is the test's to remove.
  auto crm = Ctr({"container", "rm", c4});
  EXPECT_EQ(crm.exit_code, 0) << Describe(crm);
  EXPECT_EQ(Ctr({"images", "rm", "ck:1"}).exit_code, 0);
}

TEST_F(CheckpointE2E, BrokenCriuIsAFailedPreconditionNamingCriusVerdict) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({PathWith(FakeCriuDir("broken-criu", kBrokenCriu))}));
  const std::string c5 = Track("b5");
  ASSERT_NO_FATAL_FAILURE(RunDetached(c5, {"sleep", "1000"}));  // real runc, which runs the broken criu
  const auto before = Content();

  auto ck = Ctr({"container", "checkpoint", "--task", c5, "ck:5"});
  EXPECT_NE(ck.exit_code, 0) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("criu is not usable on this machine")) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("`criu check`: ")) << Describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("Unexpected rt vDSO area bounds")) << "criu check's last line: " << Describe(ck);
  // ctr prints errdefs' class of the gRPC code last: FailedPrecondition.
  EXPECT_THAT(ck.err, HasSubstr(": failed precondition")) << Describe(ck);

  ExpectNothingLeftOf("ck:5", before);
  EXPECT_EQ(TaskStatus(c5), "RUNNING");
  RemoveContainer(c5);
}

TEST_F(CheckpointE2E, TaskCheckpointNamesItsImageKeepsFilesAtImagePathAndExits) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string id = Track("tk");
  ASSERT_NO_FATAL_FAILURE(RunDetached(id, {"sleep", "1000"}, StandIn()));

  // Without a path: an image named containerd.io/checkpoint/<id>:<date>, printed by ctr.
  auto ck = Ctr({"task", "checkpoint", id});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  const auto printed = Lines(ck.out);
  ASSERT_EQ(printed.size(), 1u) << Describe(ck);
  const std::string name = printed[0];
  EXPECT_THAT(name, StartsWith("containerd.io/checkpoint/" + id + ":"));
  EXPECT_THAT(Images(), Contains(name));
  json ck_index = Index(name);
  EXPECT_FALSE(ManifestOf(ck_index, kCriuTar).is_null()) << ck_index.dump(2);
  EXPECT_FALSE(ManifestOf(ck_index, kConfig).is_null()) << ck_index.dump(2);
  EXPECT_THAT(LastStandInCall("checkpoint"), HasSubstr("--leave-running")) << StandInLog();
  EXPECT_EQ(TaskStatus(id), "RUNNING");

  // --image-path/--work-path: criu's files stay there; nothing goes into the content store.
  const auto content_before = Content();
  const auto images_before = Images();
  const fs::path files = dir_->path() / "ck-files", work = dir_->path() / "ck-work";
  auto at_path = Ctr({"task", "checkpoint", "--image-path", files.string(), "--work-path", work.string(), id});
  ASSERT_EQ(at_path.exit_code, 0) << Describe(at_path) << daemon_->Log();
  EXPECT_EQ(at_path.out, "") << "ctr prints no image name for a checkpoint kept at a path";
  EXPECT_EQ(ReadFile(files / "core-1.img"), id + "\n");
  const std::string call = LastStandInCall("checkpoint");
  EXPECT_THAT(call, HasSubstr("--image-path " + files.string())) << call;
  EXPECT_THAT(call, HasSubstr("--work-path " + work.string())) << call;
  EXPECT_EQ(Content(), content_before);
  EXPECT_EQ(Images(), images_before);
  EXPECT_EQ(TaskStatus(id), "RUNNING");

  // --exit: the runtime is not told to leave the task running, and the task stops. (The image
  // name has the time to the second: the first checkpoint's must not be reused.)
  std::this_thread::sleep_for(1100ms);
  auto exited = Ctr({"task", "checkpoint", "--exit", id});
  ASSERT_EQ(exited.exit_code, 0) << Describe(exited) << daemon_->Log();
  EXPECT_THAT(LastStandInCall("checkpoint"), Not(HasSubstr("--leave-running"))) << StandInLog();
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus(id) == "STOPPED"; })) << Ctr({"task", "ls"}).out;
  auto rm = Ctr({"task", "rm", id});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_EQ(Ctr({"container", "rm", id}).exit_code, 0);
}

// ctr can only restore through `ctr c restore`, which gives the task no terminal
// (cio.WithStdio), so a terminal task's checkpoint is only checked here, not its restore.
TEST_F(CheckpointE2E, TerminalTaskIsCheckpointedAsAShellJob) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string id = Track("tty");
  auto run = RunOnPty(daemon_->CtrArgv({"run", "-d", "-t", "--runc-binary", StandIn().string(), image_, id,
                                        "sleep", "1000"}));
  ASSERT_EQ(run.exit_code, 0) << Describe(run) << daemon_->Log();
  ASSERT_EQ(TaskStatus(id), "RUNNING") << Ctr({"task", "ls"}).out;

  auto ck = Ctr({"container", "checkpoint", "--task", id, "tty:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  EXPECT_THAT(LastStandInCall("checkpoint"), HasSubstr("--shell-job"))
      << "the terminal is the shim's, outside the container: " << StandInLog();
  EXPECT_FALSE(ManifestOf(Index("tty:1"), kCriuTar).is_null());
  EXPECT_EQ(TaskStatus(id), "RUNNING");
  RemoveContainer(id);
  EXPECT_EQ(Ctr({"images", "rm", "tty:1"}).exit_code, 0);
}

TEST_F(CheckpointE2E, ScratchLeftByACrashIsRemovedAtStart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}, /*pull=*/false));
  daemon_->Kill();
  const fs::path leftover = daemon_->root() / "tmpcheckpoints" / "x-123";
  fs::create_directories(leftover);
  std::ofstream(leftover / "pages-1.img") << "half a dump";
  ASSERT_TRUE(fs::exists(leftover / "pages-1.img"));
  daemon_->Start();
  ASSERT_TRUE(daemon_->running()) << daemon_->Log();
  EXPECT_FALSE(fs::exists(leftover)) << "a crashed checkpoint's scratch survived the restart";
  EXPECT_THAT(ScratchLeft(), IsEmpty());
}

// ---- with a real criu: only where `criu check` passes ----

class CheckpointRealCriuE2E : public CheckpointE2E {
 protected:
  void SetUp() override {
    CheckpointE2E::SetUp();
    if (HasFatalFailure()) return;
    const WorkingCriu criu = FindWorkingCriu();
    if (criu.path.empty()) GTEST_SKIP() << criu.skip_reason;
    // berthd's shims, runc and the shim's own `criu check` find this criu first.
    ASSERT_NO_FATAL_FAILURE(StartDaemon({PathWith(criu.path.parent_path())}));
  }

  // The counter in /tmp/n of container `id` (-1 when it cannot be read within 5 s).
  long Counter(const std::string& id) { return e2e::Counter(*daemon_, id, exec_seq_); }

  int exec_seq_ = 0;
};

TEST_F(CheckpointRealCriuE2E, RestoredCounterGoesOnFromTheCheckpointedValue) {
  const std::string c1 = Track("k1"), c2 = Track("k2");
  ASSERT_NO_FATAL_FAILURE(RunDetached(c1, {"sh", "-c", kCounter}));
  ASSERT_TRUE(WaitUntil([&] { return Counter(c1) >= 10; }, 30s)) << "the counter does not count";
  const long before = Counter(c1);
  ASSERT_GE(before, 10);

  auto ck = Ctr({"container", "checkpoint", "--task", "--rw", c1, "ck:1"}, 120s);
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  EXPECT_THAT(ScratchLeft(), IsEmpty());
  EXPECT_THAT(ActiveIngests(), IsEmpty());
  RemoveTask(c1);

  auto restore = Ctr({"container", "restore", "--live", "--rw", c2, "ck:1"}, 120s);
  ASSERT_EQ(restore.exit_code, 0) << Describe(restore) << daemon_->Log();
  ASSERT_EQ(TaskStatus(c2), "RUNNING") << Ctr({"task", "ls"}).out;
  const long first = Counter(c2);
  EXPECT_GE(first, before) << "the restored loop starts where c1's was checkpointed, not from 1";
  std::this_thread::sleep_for(1s);
  const long later = Counter(c2);
  EXPECT_GT(later, first) << "the restored loop keeps counting";
  EXPECT_GT(later, before);

  RemoveContainer(c2);
  EXPECT_FALSE(fs::exists(Bundle(c2)));
  EXPECT_EQ(Ctr({"container", "rm", c1}).exit_code, 0);
  EXPECT_EQ(Ctr({"images", "rm", "ck:1"}).exit_code, 0);
}

TEST_F(CheckpointRealCriuE2E, TaskCheckpointExitStopsTheTaskWithoutItKeepsRunning) {
  const std::string stays = Track("x1"), exits = Track("x2");
  ASSERT_NO_FATAL_FAILURE(RunDetached(stays, {"sleep", "1000"}));
  ASSERT_NO_FATAL_FAILURE(RunDetached(exits, {"sleep", "1000"}));

  auto kept = Ctr({"task", "checkpoint", stays}, 120s);
  ASSERT_EQ(kept.exit_code, 0) << Describe(kept) << daemon_->Log();
  EXPECT_THAT(kept.out, StartsWith("containerd.io/checkpoint/" + stays + ":"));
  EXPECT_EQ(TaskStatus(stays), "RUNNING");

  auto stopped = Ctr({"task", "checkpoint", "--exit", exits}, 120s);
  ASSERT_EQ(stopped.exit_code, 0) << Describe(stopped) << daemon_->Log();
  EXPECT_THAT(stopped.out, StartsWith("containerd.io/checkpoint/" + exits + ":"));
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus(exits) == "STOPPED"; })) << Ctr({"task", "ls"}).out;
  EXPECT_THAT(ScratchLeft(), IsEmpty());

  RemoveContainer(stays);
  auto rm = Ctr({"task", "rm", exits});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_EQ(Ctr({"container", "rm", exits}).exit_code, 0);
  for (const auto& ref : Images()) {
    if (ref.starts_with("containerd.io/checkpoint/")) {
      EXPECT_EQ(Ctr({"images", "rm", ref}).exit_code, 0) << ref;
    }
  }
}

// As above for the stand-in: ctr cannot restore a terminal task (no terminal through
// `ctr c restore`), so this checks that criu dumps one and leaves it running.
TEST_F(CheckpointRealCriuE2E, TerminalTaskIsCheckpointedAndKeepsRunning) {
  const std::string id = Track("kt");
  auto run = RunOnPty(daemon_->CtrArgv({"run", "-d", "-t", image_, id, "sh", "-c", kCounter}));
  ASSERT_EQ(run.exit_code, 0) << Describe(run) << daemon_->Log();
  ASSERT_EQ(TaskStatus(id), "RUNNING") << Ctr({"task", "ls"}).out;
  ASSERT_TRUE(WaitUntil([&] { return Counter(id) >= 5; }, 30s));

  auto ck = Ctr({"container", "checkpoint", "--task", id, "tty:1"}, 120s);
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << daemon_->Log();
  EXPECT_FALSE(ManifestOf(Index("tty:1"), kCriuTar).is_null());
  EXPECT_EQ(TaskStatus(id), "RUNNING");
  const long after = Counter(id);
  std::this_thread::sleep_for(500ms);
  EXPECT_GT(Counter(id), after) << "the checkpointed terminal task goes on counting";
  RemoveContainer(id);
  EXPECT_EQ(Ctr({"images", "rm", "tty:1"}).exit_code, 0);
}

}  // namespace
}  // namespace berth::e2e
