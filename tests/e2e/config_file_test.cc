// berthd started with containerd's config.toml: the keys berth applies take effect, the
// sections it has no counterpart for are logged once by name, required plugins are checked;
// and grpc.health.v1.Health, which containerd's Go client calls in IsServing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "containerd_daemon.h"
#include "harness.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string EmbeddedImage() { return std::string(BERTH_SOURCE_DIR) + "/build/images/berth-busybox.tar"; }

// The cgroup berthd is told to move into: /<name> in the memory and cpu hierarchies.
class TestCgroup {
 public:
  explicit TestCgroup(std::string name) : name_(std::move(name)) {
    for (const char* ctl : {"memory", "cpu,cpuacct"}) {
      fs::path dir = fs::path("/sys/fs/cgroup") / ctl / name_;
      std::error_code ec;
      if (fs::is_directory(dir.parent_path(), ec) && fs::create_directory(dir, ec)) dirs_.push_back(dir);
    }
  }
  ~TestCgroup() {
    for (const auto& d : dirs_) {
      // Shims started by berthd live here too until they exit (containerd's are the same).
      WaitUntil([&] { return ::rmdir(d.c_str()) == 0 || errno == ENOENT; }, 15s);
    }
  }
  bool ok() const { return !dirs_.empty(); }
  std::string path() const { return "/" + name_; }

 private:
  std::string name_;
  std::vector<fs::path> dirs_;
};

TEST(ConfigFileE2E, ContainerdConfigTomlIsADropInSwap) {
  TempDir dir;
  TestCgroup cg("berth-e2e-config-" + std::to_string(::getpid()));
  ASSERT_TRUE(cg.ok());
  fs::path ttrpc = dir.path() / "events.ttrpc";
  fs::path config = dir.path() / "config.toml";
  std::ofstream(config) << "version = 2\n"
                           "oom_score = 321\n"  // raising needs no capability (this sandbox has no CAP_SYS_RESOURCE)

                           "plugin_dir = \"/opt/plugins\"\n"
                           "[cgroup]\n  path = \"" << cg.path() << "\"\n"
                           "[ttrpc]\n  address = \"" << ttrpc.string() << "\"\n"
                           "[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"pause:3.6\"\n"
                           "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n    snapshotter = \"overlayfs\"\n"
                           "[plugins.\"io.containerd.runtime.v1.linux\"]\n  runtime = \"runc\"\n  shim_debug = true\n";
  Berthd d(dir.path() / "d", {"--config", config.string()});
  ASSERT_TRUE(d.running());

  EXPECT_EQ(ReadFile("/proc/" + std::to_string(d.pid()) + "/oom_score_adj"), "321\n");
  EXPECT_THAT(ReadFile("/proc/" + std::to_string(d.pid()) + "/cgroup"), HasSubstr(":memory:" + cg.path() + "\n"));
  EXPECT_TRUE(fs::exists(ttrpc)) << "the shims' events endpoint is where [ttrpc] address says";
  std::string log = d.Log();
  EXPECT_EQ(Count(log, "io.containerd.grpc.v1.cri"), 1u) << log;
  EXPECT_THAT(log, HasSubstr("plugin_dir ignored"));

  // A task's shim publishes its events to the configured endpoint: ctr run sees the exit.
  auto imported = d.Ctr({"images", "import", EmbeddedImage()});
  ASSERT_EQ(imported.exit_code, 0) << Describe(imported);
  auto r = d.Ctr({"run", "--rm", "localhost/berth/busybox:latest", "cfg1", "echo", "hi"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r) << d.Log();
  EXPECT_EQ(r.out, "hi\n");
  // The legacy runtime name is served by the same shim.
  r = d.Ctr({"run", "--rm", "--runtime", "io.containerd.runtime.v1.linux", "localhost/berth/busybox:latest",
             "cfg2", "sh", "-c", "exit 4"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r) << d.Log();
  EXPECT_EQ(d.Stop(), 0);
  EXPECT_FALSE(fs::exists(ttrpc)) << "removed at shutdown";
}

TEST(ConfigFileE2E, MissingRequiredPluginFailsTheStart) {
  TempDir dir;
  fs::path config = dir.path() / "config.toml";
  std::ofstream(config) << "version = 2\nrequired_plugins = [\"io.containerd.grpc.v1.cri\"]\n";
  auto r = e2e::Run({BerthdBin(), "--config", config.string(), "--root", (dir.path() / "r").string(), "--state",
                (dir.path() / "s").string(), "--address", (dir.path() / "b.sock").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("required plugin io.containerd.grpc.v1.cri not included"));
  EXPECT_FALSE(fs::exists(dir.path() / "b.sock"));

  std::ofstream(config, std::ios::trunc) << "version = 2\nrequired_plugins = [\"io.containerd.grpc.v1.tasks\"]\n"
                                            "[grpc]\n  adress = \"/x\"\n";
  r = e2e::Run({BerthdBin(), "--config", config.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown key \"adress\""));
}

// berthd keeps its bundles where containerd does. Pointed at a running containerd's state (the
// drop-in swap done wrong), it must neither take containerd's tasks for dead ones of its own nor
// remove containerd's sockets.
TEST(ConfigFileE2E, ContainerdsStateAndSocketsAreLeftAlone) {
  if (!fs::exists(Containerd::kBinary)) GTEST_SKIP() << "no " << Containerd::kBinary;
  TempDir dir;
  Containerd containerd(dir.path() / "c");
  // containerd's runc root (/run/containerd/runc/<ns>) is shared by every containerd: a unique id.
  const std::string theirs = "theirs-" + std::to_string(::getpid());
  auto imported = containerd.Ctr({"images", "import", EmbeddedImage()});
  ASSERT_EQ(imported.exit_code, 0) << Describe(imported);
  auto run = containerd.Ctr({"run", "-d", "localhost/berth/busybox:latest", theirs, "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  struct Cleanup {
    const Containerd& c;
    std::string id;
    ~Cleanup() {
      c.Ctr({"task", "kill", "-s", "SIGKILL", id});
      WaitUntil([&] { return c.Ctr({"task", "ls"}).out.find("RUNNING") == std::string::npos; });
      c.Ctr({"task", "rm", "-f", id});
      c.Ctr({"container", "rm", id});
    }
  } cleanup{containerd, theirs};
  fs::path state = dir.path() / "c" / "state";
  fs::path ttrpc = containerd.socket().string() + ".ttrpc";
  ASSERT_TRUE(fs::exists(ttrpc));
  auto running = [&] { return containerd.Ctr({"task", "ls"}).out.find("RUNNING") != std::string::npos; };

  // On containerd's socket: refused before anything else is touched.
  auto same_socket = e2e::Run({BerthdBin(), "--root", (dir.path() / "broot").string(), "--state", state.string(),
                               "--address", containerd.socket().string()});
  EXPECT_NE(same_socket.exit_code, 0);
  EXPECT_TRUE(fs::exists(ttrpc)) << "containerd's event socket was removed";
  EXPECT_TRUE(running()) << containerd.Ctr({"task", "ls"}).out;

  // On containerd's state with a socket of its own: containerd's bundle is not berthd's.
  {
    fs::path log = dir.path() / "berthd.log";
    BackgroundProcess d({BerthdBin(), "--root", (dir.path() / "broot").string(), "--state", state.string(),
                         "--address", (dir.path() / "b.sock").string()},
                        log);
    EXPECT_TRUE(d.WaitForOutput("berthd serving", std::chrono::seconds(30))) << d.Output();
    EXPECT_THAT(d.Output(), HasSubstr("bundle not made by berthd left alone"));
    EXPECT_EQ(d.Stop(), 0) << d.Output();
  }
  EXPECT_TRUE(running()) << containerd.Ctr({"task", "ls"}).out;
  EXPECT_TRUE(fs::exists(state / "io.containerd.runtime.v2.task" / "default" / theirs / "config.json"));
}

// containerd's [debug] address: a unix socket serving a JSON view of the daemon at /debug/vars.
TEST(ConfigFileE2E, DebugAddressServesVarsOnAUnixSocket) {
  TempDir dir;
  fs::path debug = dir.path() / "debug.sock";
  fs::path config = dir.path() / "config.toml";
  std::ofstream(config) << "version = 2\n[debug]\n  address = \"" << debug.string() << "\"\n";
  {
    Berthd d(dir.path() / "d", {"--config", config.string()});
    ASSERT_TRUE(d.running());
    auto r = e2e::Run({"curl", "-sS", "-m", "10", "--unix-socket", debug.string(), "http://berthd/debug/vars"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("\"pid\":" + std::to_string(d.pid())));
    EXPECT_THAT(r.out, HasSubstr("\"rss_bytes\":"));
    EXPECT_THAT(r.out, HasSubstr(BerthdBin()));
    auto missing = e2e::Run({"curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket",
                             debug.string(), "http://berthd/debug/pprof/"});
    EXPECT_EQ(missing.out, "404");
    EXPECT_EQ(d.Stop(), 0);
  }
  EXPECT_FALSE(fs::exists(debug)) << "removed at shutdown";
}

// grpc.health.v1.Health/Check with an empty HealthCheckRequest ("" service: the server).
int HealthStatus(const fs::path& socket) {
  auto channel = grpc::CreateChannel("unix:" + socket.string(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) return -status.error_code();
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -100;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse{status = 1: SERVING} is 08 01; NOT_SERVING 08 02; UNKNOWN is empty.
  if (bytes.empty()) return 0;
  if (bytes.size() == 2 && bytes[0] == 0x08) return bytes[1];
  return -101;
}

class ConfigFileHealthTest : public BerthdTest {};

TEST_F(ConfigFileHealthTest, ServingOnceStartedAndListedByIntrospection) {
  EXPECT_EQ(HealthStatus(daemon_->socket()), 1);
  auto r = daemon_->Ctr({"plugins", "ls", "id==healthcheck"});
  EXPECT_THAT(r.out, HasSubstr("io.containerd.grpc.v1")) << Describe(r);
}

}  // namespace
}  // namespace berth::e2e
