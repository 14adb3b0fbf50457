// Checkpoint/restore through berth's own command line against a real berthd: `berth checkpoint`,
// `berth restore [--live] [--rw]`, the seed's named checkpoints (`berth checkpoints
// ls|create|rm`, `berth containers start --checkpoint`), and a checkpoint image moved to a
// second berthd through a registry (`berth push` / `berth pull`).
//
// As in checkpoint_test.cc, most tests need no criu: containers run under a stand-in runtime
// (checkpoint_support.h: a shell script, given as `berth run --runc-binary`, or put first on
// berthd's PATH as `runc` for the seed's bundle containers, which always use the default runtime
// binary) whose `checkpoint` writes a few fake image files and whose `restore` checks them and
// creates the container afresh with the real runc. The CheckpointCliRealCriuE2E tests run only
// where a real criu passes `criu check` ($BERTH_CRIU or PATH) and are skipped elsewhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
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

class CheckpointCliE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The tests work in containerd's default namespace (the cgroup checks name it), whatever an
    // earlier suite of this process set.
    ::unsetenv("CONTAINERD_NAMESPACE");
    ::unsetenv("BERTH_NAMESPACE");
    ASSERT_FALSE(SuiteImage::Ref().empty());
  }
  static void TearDownTestSuite() { SuiteImage::Reset(); }

  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    image_ = SuiteImage::Ref();
    ASSERT_FALSE(image_.empty());
  }

  void TearDown() override {
    TearDownDaemons({a_.get(), b_.get()}, ids_);
    a_.reset();
    b_.reset();
    dir_.reset();
  }

  // A berthd on dirs under <tmp>/`name`, `env` in its environment, the test image pulled into it.
  std::unique_ptr<Berthd> StartDaemon(const std::string& name, std::vector<std::string> env = {}) {
    auto d = std::make_unique<Berthd>(dir_->path() / name, std::vector<std::string>{}, std::move(env));
    EXPECT_TRUE(d->running()) << d->Log();
    if (!d->running()) return d;
    auto r = d->Ctr({"images", "pull", "--plain-http", image_}, 120s);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return d;
  }
  // Daemon A (a_), asserting it came up with the image.
  void StartA(std::vector<std::string> env = {}) {
    a_ = StartDaemon("a", std::move(env));
    ASSERT_TRUE(a_->running());
    ASSERT_FALSE(HasFailure());
  }

  // For `--runc-binary`: runc itself found on berthd's PATH.
  fs::path StandIn() { return e2e::StandIn(dir_->path()); }
  // A directory whose `runc` is the stand-in (calling the real runc by its path), for berthd's
  // PATH; empty (after a failure) when there is no runc.
  fs::path StandInRuncDir() {
    const fs::path real = FindExecutable("runc");
    EXPECT_FALSE(real.empty()) << "no runc on PATH";
    if (real.empty()) return {};
    fs::path d = dir_->path() / "standin-path";
    WriteStandIn(d / "runc", dir_->path(), real.string());
    return d;
  }
  std::string StandInLog() const { return e2e::StandInLog(dir_->path()); }
  // The stand-in's calls of `sub` (checkpoint|restore) for container `id`.
  std::vector<std::string> StandInCalls(const std::string& sub, const std::string& id) const {
    std::vector<std::string> out;
    for (const auto& line : e2e::StandInCalls(dir_->path(), sub)) {
      if (line.ends_with(" " + id)) out.push_back(line);
    }
    return out;
  }
  std::string LastStandInCall(const std::string& sub, const std::string& id) const {
    auto calls = StandInCalls(sub, id);
    return calls.empty() ? "" : calls.back();
  }

  std::string Track(const std::string& name) {
    ids_.push_back(Id(name));
    return ids_.back();
  }

  // `berth run -d` of `args` (the command) in container `id` of daemon `d`, under `runtime`
  // unless empty.
  void RunDetached(const Berthd& d, const std::string& id, const std::vector<std::string>& args,
                   const fs::path& runtime = {}, bool tty = false) {
    std::vector<std::string> argv = {"run", "-d"};
    if (tty) argv.push_back("-t");
    if (!runtime.empty()) argv.insert(argv.end(), {"--runc-binary", runtime.string()});
    argv.push_back(image_);
    argv.push_back(id);
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = d.Berth(argv);
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << d.Log();
    ASSERT_EQ(TaskStatus(d, id), "RUNNING") << d.Ctr({"task", "ls"}).out;
  }

  static bool HasTask(const Berthd& d, const std::string& id) {
    return TaskStatuses(d.Ctr({"task", "ls"}).out).contains(id);
  }
  static std::vector<std::string> Containers(const Berthd& d) { return Lines(d.Ctr({"container", "ls", "-q"}).out); }

  // With berth: SIGKILL, wait for the exit, delete the task (the container stays).
  static void RemoveTask(const Berthd& d, const std::string& id) {
    auto k = d.Berth({"tasks", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(k.exit_code, 0) << Describe(k);
    EXPECT_TRUE(WaitUntil([&] { return TaskStatus(d, id) == "STOPPED"; })) << d.Ctr({"task", "ls"}).out;
    auto rm = d.Berth({"tasks", "rm", id});
    EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  }
  static void RemoveContainer(const Berthd& d, const std::string& id) {
    RemoveTask(d, id);
    auto rm = d.Berth({"containers", "rm", id});
    EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
    EXPECT_THAT(Containers(d), Not(Contains(id)));
  }
  static void RemoveImages(const Berthd& d, const std::vector<std::string>& refs) {
    std::vector<std::string> argv = {"images", "rm"};
    argv.insert(argv.end(), refs.begin(), refs.end());
    auto rm = d.Berth(argv);
    EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  }

  // A blob read with `berth content get`.
  static std::string Blob(const Berthd& d, const std::string& digest) {
    auto r = d.Berth({"content", "get", digest});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.out;
  }

  // The OCI index checkpoint image `ref` points at (discarded json if unreadable).
  static json Index(const Berthd& d, const std::string& ref) {
    const std::string digest = ImageDigest(d, ref);
    if (digest.empty()) return json::value_t::discarded;
    return json::parse(Blob(d, digest), nullptr, false);
  }

  // Runs `cmd` in container `id` of `d` (ctr task exec), its stdout; "" on failure.
  std::string Exec(const Berthd& d, const std::string& id, const std::vector<std::string>& cmd) {
    std::vector<std::string> argv = {"task", "exec", "--exec-id", "x" + std::to_string(++exec_seq_), id};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    auto r = d.Ctr(argv);
    return r.exit_code == 0 ? r.out : "";
  }

  // The counter in /tmp/n of container `id` of `d` (-1 when it cannot be read within 5 s).
  long Counter(const Berthd& d, const std::string& id) { return e2e::Counter(d, id, exec_seq_); }

  // `berth bundle create IMAGE <tmp>/bundles/<id> -- args...` (the bundle dir is named as the
  // container so that its cgroup path, /default/<dir name>, is the container's).
  fs::path MakeBundle(const Berthd& d, const std::string& id, const std::vector<std::string>& args) {
    fs::path dir = dir_->path() / "bundles" / id;
    fs::create_directories(dir.parent_path());
    std::vector<std::string> argv = {"bundle", "create", image_, dir.string(), "--"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = d.Berth(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_TRUE(fs::exists(dir / "config.json")) << dir;
    return dir;
  }

  // The registry of the suite image: "127.0.0.1:PORT".
  std::string RegistryHost() const { return image_.substr(0, image_.find('/')); }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> a_, b_;
  std::string image_;
  std::vector<std::string> ids_;  // containers whose cgroups must be gone at the end
  int exec_seq_ = 0;
};

// ---- with the stand-in runtime: everywhere ----

TEST_F(CheckpointCliE2E, CheckpointWritesTheIndexKeepsTheTaskRunningAndRefusesATakenName) {
  ASSERT_NO_FATAL_FAILURE(StartA());
  const Berthd& a = *a_;
  const std::string c1 = Track("cc1");
  ASSERT_NO_FATAL_FAILURE(RunDetached(a, c1, {"sleep", "1000"}, StandIn()));

  auto ck = a.Berth({"checkpoint", "--rw", c1, "ck:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << a.Log();
  // berth prints the image and its target.
  const auto printed = Fields(ck.out);
  ASSERT_EQ(printed.size(), 2u) << Describe(ck);
  EXPECT_EQ(printed[0], "ck:1");
  EXPECT_THAT(printed[1], StartsWith("sha256:"));
  EXPECT_EQ(ImageDigest(a, "ck:1"), printed[1]) << a.Ctr({"images", "ls"}).out;
  auto labelled = a.Berth({"images", "ls", "-q", "labels.\"containerd.io/checkpoint\"==true"});
  ASSERT_EQ(labelled.exit_code, 0) << Describe(labelled);
  EXPECT_EQ(Lines(labelled.out), std::vector<std::string>{"ck:1"}) << "labelled containerd.io/checkpoint=true";

  // The index, read back with `berth content get`.
  const json index = json::parse(Blob(a, printed[1]), nullptr, false);
  ASSERT_TRUE(index.is_object() && index.contains("manifests") && index["manifests"].is_array())
      << Blob(a, printed[1]);
  EXPECT_EQ(index.value("mediaType", ""), "application/vnd.oci.image.index.v1+json") << index.dump(2);
  for (const char* type : {kCriuTar, kConfig, kOptions, kRuntimeOptions, kGzipLayer}) {
    EXPECT_FALSE(ManifestOf(index, type).is_null()) << type << " missing from " << index.dump(2);
  }
  const json ann = index.value("annotations", json::object());
  EXPECT_EQ(ann.value("io.containerd.checkpoint.runtime", ""), "io.containerd.runc.v2") << index.dump(2);
  EXPECT_EQ(ann.value("io.containerd.checkpoint.snapshotter", ""), "overlayfs") << index.dump(2);
  EXPECT_EQ(ann.value("org.opencontainers.image.ref.name", ""), image_) << index.dump(2);
  // Every blob it names is in the store, with its size.
  for (const auto& m : index["manifests"]) {
    const std::string digest = m.value("digest", "");
    auto blob = a.Berth({"content", "get", digest});
    EXPECT_EQ(blob.exit_code, 0) << m.dump() << "\n" << Describe(blob);
    EXPECT_EQ(blob.out.size(), m.value("size", uint64_t{0})) << m.dump();
  }

  // The criu tar holds what the runtime dumped.
  const std::string tar = DigestOf(index, kCriuTar);
  ASSERT_FALSE(tar.empty());
  std::vector<std::string> list = {"sh", "-c", "\"$@\" | tar -tf -", "sh"};
  for (const auto& arg : a.BerthArgv({"content", "get", tar})) list.push_back(arg);
  auto listed = e2e::Run(list);
  EXPECT_EQ(listed.exit_code, 0) << Describe(listed);
  for (const char* f : {"core-1.img", "inventory.img", "pages-1.img"}) EXPECT_THAT(listed.out, HasSubstr(f));
  // The config blob is the container's spec; the runtime options name the stand-in.
  EXPECT_THAT(Blob(a, DigestOf(index, kConfig)), HasSubstr("sleep"));
  EXPECT_THAT(Blob(a, DigestOf(index, kRuntimeOptions)), HasSubstr(StandIn().string()));

  // The runtime was told to leave the task running; berth resumed it after the dump.
  const std::string call = LastStandInCall("checkpoint", c1);
  EXPECT_THAT(call, HasSubstr("--leave-running")) << StandInLog();
  EXPECT_THAT(call, Not(HasSubstr("--tcp-established"))) << call;
  EXPECT_EQ(TaskStatus(a, c1), "RUNNING") << a.Ctr({"task", "ls"}).out;
  EXPECT_TRUE(WaitUntil([&] { return Rows(a.Ctr({"leases", "ls"}).out).empty(); }))
      << "the checkpoint's lease is gone: " << a.Ctr({"leases", "ls"}).out;
  EXPECT_THAT(Rows(a.Ctr({"content", "active"}).out), IsEmpty());

  // The same name again: refused before the task is touched.
  const size_t calls = StandInCalls("checkpoint", c1).size();
  auto again = a.Berth({"checkpoint", c1, "ck:1"});
  EXPECT_NE(again.exit_code, 0) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("already exists")) << Describe(again);
  EXPECT_EQ(StandInCalls("checkpoint", c1).size(), calls) << "the runtime was not asked again: " << StandInLog();
  EXPECT_EQ(TaskStatus(a, c1), "RUNNING");
  EXPECT_EQ(ImageDigest(a, "ck:1"), printed[1]) << "the first checkpoint is untouched";

  // A container that does not exist.
  auto none = a.Berth({"checkpoint", Id("nosuch"), "ck:9"});
  EXPECT_NE(none.exit_code, 0) << Describe(none);
  EXPECT_THAT(none.err, HasSubstr("not found")) << Describe(none);
  EXPECT_THAT(Images(a), Not(Contains("ck:9")));

  // --exit: the runtime is not told to leave it running, and the task stops.
  auto exited = a.Berth({"checkpoint", "--exit", c1, "ck:2"});
  ASSERT_EQ(exited.exit_code, 0) << Describe(exited) << a.Log();
  EXPECT_THAT(LastStandInCall("checkpoint", c1), Not(HasSubstr("--leave-running"))) << StandInLog();
  EXPECT_EQ(StandInCalls("checkpoint", c1).size(), calls + 1) << StandInLog();
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus(a, c1) == "STOPPED"; })) << a.Ctr({"task", "ls"}).out;
  EXPECT_FALSE(ManifestOf(Index(a, "ck:2"), kCriuTar).is_null()) << Index(a, "ck:2").dump(2);
  EXPECT_TRUE(ManifestOf(Index(a, "ck:2"), kGzipLayer).is_null()) << "no --rw, no rw layer";

  auto rm = a.Berth({"tasks", "rm", c1});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  auto crm = a.Berth({"containers", "rm", c1});
  EXPECT_EQ(crm.exit_code, 0) << Describe(crm);
  RemoveImages(a, {"ck:1", "ck:2"});
}

TEST_F(CheckpointCliE2E, RestoreLiveRestoresTheDumpAndPlainRestoreStartsAfresh) {
  ASSERT_NO_FATAL_FAILURE(StartA());
  const Berthd& a = *a_;
  const std::string c1 = Track("cr1"), c2 = Track("cr2"), c3 = Track("cr3"), c4 = Track("cr4");
  ASSERT_NO_FATAL_FAILURE(RunDetached(a, c1, {"sleep", "1000"}, StandIn()));
  // A file in c1's rw layer, for --rw.
  auto marker = a.Ctr({"task", "exec", "--exec-id", "mark", c1, "sh", "-c", "echo from-c1 > /rw-marker"});
  ASSERT_EQ(marker.exit_code, 0) << Describe(marker);
  auto ck = a.Berth({"checkpoint", "--rw", c1, "ck:1"});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << a.Log();
  // The checkpoint image is all a restore needs; the restored spec keeps c1's cgroup path, so
  // c1 goes first (and each restored container before the next).
  RemoveContainer(a, c1);

  // --live --rw: the runtime restores c2 in its bundle from the unpacked criu tar (c1's dump).
  auto live = a.Berth({"restore", "--live", "--rw", c2, "ck:1"});
  ASSERT_EQ(live.exit_code, 0) << Describe(live) << a.Log();
  EXPECT_EQ(TaskStatus(a, c2), "RUNNING") << a.Ctr({"task", "ls"}).out;
  const std::string call = LastStandInCall("restore", c2);
  EXPECT_THAT(call, HasSubstr("--image-path " + (Bundle(a, c2) / "checkpoint").string())) << StandInLog();
  EXPECT_THAT(call, HasSubstr("--bundle " + Bundle(a, c2).string())) << call;
  EXPECT_THAT(StandInLog(), HasSubstr("images present: " + c1));
  EXPECT_EQ(Exec(a, c2, {"cat", "/rw-marker"}), "from-c1\n") << "--rw restores c1's rw layer";
  auto info = a.Ctr({"containers", "info", c2});
  EXPECT_THAT(info.out, HasSubstr(image_)) << "the container's image is the checkpoint's base: " << info.out;
  RemoveContainer(a, c2);

  // Without --live: a fresh start of the checkpointed spec (under the same runtime), no restore;
  // without --rw: the image's files only.
  auto fresh = a.Berth({"restore", c3, "ck:1"});
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh) << a.Log();
  EXPECT_EQ(TaskStatus(a, c3), "RUNNING") << a.Ctr({"task", "ls"}).out;
  EXPECT_THAT(StandInCalls("restore", c3), IsEmpty()) << StandInLog();
  EXPECT_EQ(Exec(a, c3, {"sh", "-c", "cat /rw-marker 2>/dev/null || echo absent"}), "absent\n");
  RemoveContainer(a, c3);

  // An image that is not there: nothing is made.
  auto missing = a.Berth({"restore", "--live", c4, "nosuch:1"});
  EXPECT_NE(missing.exit_code, 0) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("not found")) << Describe(missing);
  EXPECT_THAT(Containers(a), Not(Contains(c4)));
  EXPECT_FALSE(HasTask(a, c4));
  EXPECT_FALSE(fs::exists(Bundle(a, c4)));
  EXPECT_THAT(a.Ctr({"snapshots", "ls"}).out, Not(HasSubstr(c4))) << "no snapshot left for " << c4;

  RemoveImages(a, {"ck:1"});
}

TEST_F(CheckpointCliE2E, NamedCheckpointsAreListedRefusedTwiceAndRemoved) {
  ASSERT_NO_FATAL_FAILURE(StartA());
  const Berthd& a = *a_;
  const std::string c1 = Track("cn1");
  ASSERT_NO_FATAL_FAILURE(RunDetached(a, c1, {"sleep", "1000"}, StandIn()));

  auto empty = a.Berth({"checkpoints", "ls", c1});
  ASSERT_EQ(empty.exit_code, 0) << Describe(empty);
  ASSERT_EQ(Lines(empty.out).size(), 1u) << "only the header: " << empty.out;
  EXPECT_EQ(Fields(Lines(empty.out)[0]),
            (std::vector<std::string>{"NAME", "TCP", "UNIX", "SOCKETS", "SHELL", "EXIT", "CREATED"}));

  auto create = a.Berth({"checkpoints", "create", c1, "cp1", "--tcp"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create) << a.Log();
  EXPECT_THAT(LastStandInCall("checkpoint", c1), HasSubstr("--tcp-established")) << StandInLog();
  EXPECT_THAT(LastStandInCall("checkpoint", c1), HasSubstr("--leave-running")) << StandInLog();
  EXPECT_EQ(TaskStatus(a, c1), "RUNNING");
  // A checkpoint image named after the container, ctr's kind of checkpoint too.
  const std::string image = "checkpoint/" + c1 + ":cp1";
  EXPECT_THAT(Images(a), Contains(image));
  EXPECT_FALSE(ManifestOf(Index(a, image), kCriuTar).is_null()) << Index(a, image).dump(2);

  auto ls = a.Berth({"checkpoints", "ls", c1});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  auto rows = Rows(ls.out);
  ASSERT_EQ(rows.size(), 1u) << ls.out;
  auto row = Fields(rows[0]);
  ASSERT_EQ(row.size(), 6u) << rows[0];
  EXPECT_EQ(row[0], "cp1") << ls.out;
  EXPECT_EQ(row[1], "true") << "TCP: " << ls.out;
  EXPECT_EQ(row[2], "false") << "UNIX SOCKETS: " << ls.out;
  EXPECT_EQ(row[3], "false") << "SHELL: " << ls.out;
  EXPECT_EQ(row[4], "false") << "EXIT: " << ls.out;
  EXPECT_THAT(row[5], HasSubstr("T")) << "CREATED (RFC 3339): " << ls.out;

  // The same name again is refused, and the runtime is not asked.
  const size_t calls = StandInCalls("checkpoint", c1).size();
  auto twice = a.Berth({"checkpoints", "create", c1, "cp1"});
  EXPECT_NE(twice.exit_code, 0) << Describe(twice);
  EXPECT_THAT(twice.err, HasSubstr("already exists")) << Describe(twice);
  EXPECT_EQ(StandInCalls("checkpoint", c1).size(), calls) << StandInLog();
  EXPECT_EQ(Rows(a.Berth({"checkpoints", "ls", c1}).out).size(), 1u);

  // The checkpoints of a container that does not exist: NotFound.
  auto other = a.Berth({"checkpoints", "ls", Id("nosuch")});
  EXPECT_NE(other.exit_code, 0) << Describe(other);
  EXPECT_THAT(other.err, HasSubstr("not found")) << Describe(other);

  auto rm = a.Berth({"checkpoints", "rm", c1, "cp1"});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  auto after = a.Berth({"checkpoints", "ls", c1});
  EXPECT_EQ(after.exit_code, 0) << Describe(after);
  EXPECT_EQ(Lines(after.out).size(), 1u) << "only the header: " << after.out;
  EXPECT_THAT(Images(a), Not(Contains(image)));

  auto nope = a.Berth({"checkpoints", "rm", c1, "nope"});
  EXPECT_NE(nope.exit_code, 0) << Describe(nope);
  EXPECT_THAT(nope.err, HasSubstr("not found")) << Describe(nope);
  EXPECT_THAT(nope.err, HasSubstr("nope")) << Describe(nope);

  EXPECT_EQ(TaskStatus(a, c1), "RUNNING");
  RemoveContainer(a, c1);
}

// The seed's bundle containers always run the default runtime binary (`runc`): here berthd's
// PATH finds the stand-in under that name.
TEST_F(CheckpointCliE2E, BundleContainerStartsFromItsNamedCheckpoint) {
  const fs::path standin_dir = StandInRuncDir();
  ASSERT_FALSE(standin_dir.empty());
  ASSERT_NO_FATAL_FAILURE(StartA({PathWith(standin_dir)}));
  const Berthd& a = *a_;
  const std::string b1 = Track("cb1"), b2 = Track("cb2");
  const fs::path bundle = MakeBundle(a, b1, {"sleep", "1000"});
  ASSERT_FALSE(HasFailure());

  auto start = a.Berth({"containers", "start", b1, bundle.string()});
  ASSERT_EQ(start.exit_code, 0) << Describe(start) << a.Log();
  ASSERT_EQ(TaskStatus(a, b1), "RUNNING") << a.Ctr({"task", "ls"}).out;
  auto seed_ls = a.Berth({"containers"});
  EXPECT_EQ(seed_ls.exit_code, 0) << Describe(seed_ls);
  EXPECT_THAT(seed_ls.out, HasSubstr(b1)) << seed_ls.out;
  EXPECT_THAT(seed_ls.out, HasSubstr("running")) << seed_ls.out;

  auto create = a.Berth({"checkpoints", "create", "--exit", b1, "cp1"});
  ASSERT_EQ(create.exit_code, 0) << Describe(create) << a.Log();
  EXPECT_THAT(LastStandInCall("checkpoint", b1), Not(HasSubstr("--leave-running"))) << StandInLog();
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus(a, b1) == "STOPPED"; })) << a.Ctr({"task", "ls"}).out;
  auto ls = a.Berth({"checkpoints", "ls", b1});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  ASSERT_EQ(Rows(ls.out).size(), 1u) << ls.out;
  auto row = Fields(Rows(ls.out)[0]);
  ASSERT_GE(row.size(), 5u) << ls.out;
  EXPECT_EQ(row[0], "cp1");
  EXPECT_EQ(row[4], "true") << "EXIT: " << ls.out;

  // The container goes; its named checkpoint stays.
  auto rm = a.Berth({"tasks", "rm", b1});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  auto crm = a.Berth({"containers", "rm", b1});
  EXPECT_EQ(crm.exit_code, 0) << Describe(crm);
  ASSERT_THAT(Containers(a), Not(Contains(b1)));
  ASSERT_THAT(Images(a), Contains("checkpoint/" + b1 + ":cp1"));

  auto restored = a.Berth({"containers", "start", "--checkpoint", "cp1", b1, bundle.string()});
  ASSERT_EQ(restored.exit_code, 0) << Describe(restored) << a.Log();
  EXPECT_EQ(TaskStatus(a, b1), "RUNNING") << a.Ctr({"task", "ls"}).out;
  const std::string call = LastStandInCall("restore", b1);
  EXPECT_THAT(call, HasSubstr("--image-path " + (Bundle(a, b1) / "checkpoint").string())) << StandInLog();
  EXPECT_THAT(StandInLog(), HasSubstr("images present: " + b1));

  // A checkpoint the container does not have: nothing is made.
  auto missing = a.Berth({"containers", "start", "--checkpoint", "nope", b2, bundle.string()});
  EXPECT_NE(missing.exit_code, 0) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("not found")) << Describe(missing);
  EXPECT_THAT(Containers(a), Not(Contains(b2)));
  EXPECT_FALSE(HasTask(a, b2));

  RemoveContainer(a, b1);
  RemoveImages(a, {"checkpoint/" + b1 + ":cp1"});
}

TEST_F(CheckpointCliE2E, CheckpointImageGoesThroughARegistryToAnotherDaemon) {
  ASSERT_NO_FATAL_FAILURE(StartA());
  const Berthd& a = *a_;
  const std::string c1 = Track("cm1"), c9 = Track("cm9");
  ASSERT_NO_FATAL_FAILURE(RunDetached(a, c1, {"sleep", "1000"}, StandIn()));
  auto marker = a.Ctr({"task", "exec", "--exec-id", "mark", c1, "sh", "-c", "echo from-c1 > /rw-marker"});
  ASSERT_EQ(marker.exit_code, 0) << Describe(marker);
  const std::string ref = RegistryHost() + "/ck/" + c1 + ":1";

  auto ck = a.Berth({"checkpoint", "--rw", c1, ref});
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << a.Log();
  const std::string digest = ImageDigest(a, ref);
  ASSERT_FALSE(digest.empty()) << a.Ctr({"images", "ls"}).out;
  const json index = Index(a, ref);
  ASSERT_TRUE(index.is_object());
  const auto children = ChildDigests(index);
  ASSERT_GE(children.size(), 5u) << index.dump(2);

  auto push = a.Berth({"push", "--plain-http", ref}, 120s);
  ASSERT_EQ(push.exit_code, 0) << Describe(push);
  EXPECT_THAT(push.out, HasSubstr("pushed " + ref + " (" + digest + ")")) << Describe(push);
  // c1's task goes: the restored spec is c1's, cgroup path included.
  RemoveContainer(a, c1);

  b_ = StartDaemon("b");
  ASSERT_TRUE(b_->running());
  ASSERT_FALSE(HasFailure());
  const Berthd& b = *b_;
  const auto snapshots_before = Rows(b.Ctr({"snapshots", "ls"}).out);
  auto pull = b.Berth({"pull", "--plain-http", ref}, 120s);
  ASSERT_EQ(pull.exit_code, 0) << Describe(pull) << b.Log();
  EXPECT_THAT(pull.out, HasSubstr("pulled " + ref + " (" + digest + ")")) << Describe(pull);
  EXPECT_THAT(pull.out, Not(HasSubstr("unpacked"))) << "a checkpoint is not unpacked: " << Describe(pull);
  EXPECT_EQ(Rows(b.Ctr({"snapshots", "ls"}).out), snapshots_before) << "the pull made no snapshot";
  EXPECT_EQ(ImageDigest(b, ref), digest) << b.Ctr({"images", "ls"}).out;
  // Every blob of the checkpoint came along.
  const auto content = Content(b);
  EXPECT_THAT(content, Contains(digest));
  for (const auto& d : children) EXPECT_THAT(content, Contains(d)) << "child of the pulled index missing";
  EXPECT_EQ(json::parse(Blob(b, digest), nullptr, false), index) << "the same index";
  EXPECT_THAT(Rows(b.Ctr({"content", "active"}).out), IsEmpty());

  // And B restores it (the runtime options name the stand-in, at the same path on this host).
  auto restore = b.Berth({"restore", "--live", "--rw", c9, ref});
  ASSERT_EQ(restore.exit_code, 0) << Describe(restore) << b.Log();
  EXPECT_EQ(TaskStatus(b, c9), "RUNNING") << b.Ctr({"task", "ls"}).out;
  EXPECT_THAT(LastStandInCall("restore", c9), HasSubstr("--image-path " + (Bundle(b, c9) / "checkpoint").string()))
      << StandInLog();
  EXPECT_THAT(StandInLog(), HasSubstr("images present: " + c1));
  EXPECT_EQ(Exec(b, c9, {"cat", "/rw-marker"}), "from-c1\n") << "c1's rw layer came along";
  RemoveContainer(b, c9);
  RemoveImages(b, {ref});
  RemoveImages(a, {ref});
}

// ---- with a real criu: only where `criu check` passes ----

class CheckpointCliRealCriuE2E : public CheckpointCliE2E {
 protected:
  void SetUp() override {
    CheckpointCliE2E::SetUp();
    if (HasFatalFailure()) return;
    const WorkingCriu criu = FindWorkingCriu();
    if (criu.path.empty()) GTEST_SKIP() << criu.skip_reason;
    // berthd's shims, runc and the shim's own `criu check` find this criu first.
    env_ = {PathWith(criu.path.parent_path())};
    ASSERT_NO_FATAL_FAILURE(StartA(env_));
  }

  // Waits for the counter of `id` to reach `at_least`; its value then.
  long CountedTo(const Berthd& d, const std::string& id, long at_least) {
    long value = -1;
    WaitUntil([&] { return (value = Counter(d, id)) >= at_least; }, 30s);
    return value;
  }

  // After a restore of a counter checkpointed at >= `before`: it goes on from there.
  void ExpectCountsOnFrom(const Berthd& d, const std::string& id, long before) {
    const long first = Counter(d, id);
    EXPECT_GE(first, before) << id << ": the restored loop starts where it was checkpointed, not from 1";
    std::this_thread::sleep_for(1s);
    const long later = Counter(d, id);
    EXPECT_GT(later, first) << id << ": the restored loop keeps counting";
  }

  // On daemon A: a counter in container `from` (on a terminal if `tty`) is checkpointed as `ref`
  // (with its rw layer if `rw`), its task removed, and restored live (--rw if `rw`) into `to`,
  // where it counts on from the checkpointed value; then both containers and `ref` are removed.
  void CheckpointRestoreLiveCountsOn(const std::string& from, const std::string& to, const std::string& ref,
                                     bool tty, bool rw) {
    const Berthd& a = *a_;
    ASSERT_NO_FATAL_FAILURE(RunDetached(a, from, {"sh", "-c", kCounter}, {}, tty));
    const long before = CountedTo(a, from, 20);
    ASSERT_GE(before, 20) << "the counter does not count";

    std::vector<std::string> ck_argv = {"checkpoint"};
    if (rw) ck_argv.push_back("--rw");
    ck_argv.insert(ck_argv.end(), {from, ref});
    auto ck = a.Berth(ck_argv, 120s);
    ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << a.Log();
    EXPECT_EQ(TaskStatus(a, from), "RUNNING");
    RemoveTask(a, from);

    // Without --rw, /tmp/n is written afresh by the restored loop, from where it was.
    std::vector<std::string> restore_argv = {"restore", "--live"};
    if (rw) restore_argv.push_back("--rw");
    restore_argv.insert(restore_argv.end(), {to, ref});
    auto restore = a.Berth(restore_argv, 120s);
    ASSERT_EQ(restore.exit_code, 0) << Describe(restore) << a.Log();
    ASSERT_EQ(TaskStatus(a, to), "RUNNING") << a.Ctr({"task", "ls"}).out;
    ExpectCountsOnFrom(a, to, before);

    RemoveContainer(a, to);
    auto crm = a.Berth({"containers", "rm", from});
    EXPECT_EQ(crm.exit_code, 0) << Describe(crm);
    RemoveImages(a, {ref});
  }

  std::vector<std::string> env_;
};

TEST_F(CheckpointCliRealCriuE2E, RestoredCounterGoesOnFromTheCheckpointedValue) {
  const std::string c1 = Track("ck1"), c2 = Track("ck2");
  CheckpointRestoreLiveCountsOn(c1, c2, "ck:1", /*tty=*/false, /*rw=*/true);
}

TEST_F(CheckpointCliRealCriuE2E, TerminalTaskIsRestoredAndCountsOn) {
  const std::string t1 = Track("kt1"), t2 = Track("kt2");
  CheckpointRestoreLiveCountsOn(t1, t2, "tck:1", /*tty=*/true, /*rw=*/false);
}

TEST_F(CheckpointCliRealCriuE2E, BundleContainerStartsFromItsNamedCheckpointAndCountsOn) {
  const Berthd& a = *a_;
  const std::string b1 = Track("kb1");
  const fs::path bundle = MakeBundle(a, b1, {"sh", "-c", kCounter});
  ASSERT_FALSE(HasFailure());
  auto start = a.Berth({"containers", "start", b1, bundle.string()});
  ASSERT_EQ(start.exit_code, 0) << Describe(start) << a.Log();
  ASSERT_EQ(TaskStatus(a, b1), "RUNNING") << a.Ctr({"task", "ls"}).out;
  const long before = CountedTo(a, b1, 20);
  ASSERT_GE(before, 20) << "the counter does not count";

  auto create = a.Berth({"checkpoints", "create", "--exit", b1, "cp1"}, 120s);
  ASSERT_EQ(create.exit_code, 0) << Describe(create) << a.Log();
  EXPECT_TRUE(WaitUntil([&] { return TaskStatus(a, b1) == "STOPPED"; })) << a.Ctr({"task", "ls"}).out;
  auto rm = a.Berth({"tasks", "rm", b1});
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  auto crm = a.Berth({"containers", "rm", b1});
  EXPECT_EQ(crm.exit_code, 0) << Describe(crm);

  auto restored = a.Berth({"containers", "start", "--checkpoint", "cp1", b1, bundle.string()}, 120s);
  ASSERT_EQ(restored.exit_code, 0) << Describe(restored) << a.Log();
  ASSERT_EQ(TaskStatus(a, b1), "RUNNING") << a.Ctr({"task", "ls"}).out;
  // The bundle's rootfs is the same directory: /tmp/n held the last value written before the
  // dump, and a fresh start would have counted from 1 over it.
  ExpectCountsOnFrom(a, b1, before);

  RemoveContainer(a, b1);
  RemoveImages(a, {"checkpoint/" + b1 + ":cp1"});
}

TEST_F(CheckpointCliRealCriuE2E, CounterMigratesToAnotherDaemonThroughARegistry) {
  const Berthd& a = *a_;
  const std::string c1 = Track("km1"), c9 = Track("km9");
  ASSERT_NO_FATAL_FAILURE(RunDetached(a, c1, {"sh", "-c", kCounter}));
  const long before = CountedTo(a, c1, 20);
  ASSERT_GE(before, 20) << "the counter does not count";
  const std::string ref = RegistryHost() + "/ck/" + c1 + ":1";

  auto ck = a.Berth({"checkpoint", "--rw", c1, ref}, 120s);
  ASSERT_EQ(ck.exit_code, 0) << Describe(ck) << a.Log();
  auto push = a.Berth({"push", "--plain-http", ref}, 120s);
  ASSERT_EQ(push.exit_code, 0) << Describe(push);
  // The source goes (as in a migration; the restored spec is c1's, cgroup path included).
  RemoveContainer(a, c1);

  b_ = StartDaemon("b", env_);
  ASSERT_TRUE(b_->running());
  ASSERT_FALSE(HasFailure());
  const Berthd& b = *b_;
  auto pull = b.Berth({"pull", "--plain-http", ref}, 120s);
  ASSERT_EQ(pull.exit_code, 0) << Describe(pull) << b.Log();
  EXPECT_EQ(ImageDigest(b, ref), ImageDigest(a, ref));

  auto restore = b.Berth({"restore", "--live", "--rw", c9, ref}, 120s);
  ASSERT_EQ(restore.exit_code, 0) << Describe(restore) << b.Log();
  ASSERT_EQ(TaskStatus(b, c9), "RUNNING") << b.Ctr({"task", "ls"}).out;
  ExpectCountsOnFrom(b, c9, before);

  RemoveContainer(b, c9);
  RemoveImages(b, {ref});
  RemoveImages(a, {ref});
}

}  // namespace
}  // namespace berth::e2e
