// Interop with the Go ttrpc implementation: containerd's stock runc shim
// (/usr/bin/containerd-shim-runc-v2) served to our Client, and our Server receiving the
// shim's event forwarding.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <google/protobuf/empty.pb.h>

#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "loop_thread.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace berth::ttrpc {
namespace {

namespace fs = std::filesystem;
namespace task = containerd::task::v2;
using std::chrono::milliseconds;
using testing::LoopThread;
using testing::TempDir;
using testing::WaitFor;

constexpr const char* kShimBinary = "/usr/bin/containerd-shim-runc-v2";
constexpr const char* kTaskService = "containerd.task.v2.Task";
constexpr const char* kNamespace = "berthtest";

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

bool WaitPidfd(int pidfd, milliseconds timeout) {
  pollfd p{.fd = pidfd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// One stock shim: `start` run in a bundle dir, the daemon it leaves behind stopped and its
// socket removed whatever happens in the test.
class StockShim {
 public:
  StockShim(fs::path bundle, std::string id, std::string ttrpc_address)
      : bundle_(std::move(bundle)), id_(std::move(id)), ttrpc_address_(std::move(ttrpc_address)) {}

  ~StockShim() {
    if (pidfd_ >= 0) {
      if (!WaitPidfd(pidfd_, milliseconds(0))) {
        ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
        WaitPidfd(pidfd_, milliseconds(5000));
      }
      ::close(pidfd_);
    }
    if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
    if (log_fd_ >= 0) ::close(log_fd_);
  }

  // Runs `containerd-shim-runc-v2 ... start` and returns the address it prints.
  Result<std::string> Start() {
    std::error_code ec;
    fs::create_directories(bundle_, ec);
    if (!fs::exists(bundle_ / "config.json")) std::ofstream(bundle_ / "config.json") << "{}";
    // The shim opens the `log` fifo for writing: a reader must be there first.
    std::string log = (bundle_ / "log").string();
    if (::mkfifo(log.c_str(), 0600) < 0 && errno != EEXIST) return ErrnoStatus("mkfifo " + log, errno);
    log_fd_ = ::open(log.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (log_fd_ < 0) return ErrnoStatus("open " + log, errno);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) < 0) return ErrnoStatus("pipe", errno);
    std::string containerd_address = (bundle_.parent_path() / "containerd.sock").string();
    std::vector<std::string> args = {kShimBinary, "-namespace", kNamespace, "-address", containerd_address,
                                     "-publish-binary", "/bin/true", "-id", id_, "start"};
    std::string env_ttrpc = "TTRPC_ADDRESS=" + ttrpc_address_;
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoStatus("fork", errno);
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out[1], 1) < 0 || ::chdir(bundle_.c_str()) < 0) _exit(127);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::putenv(env_ttrpc.data());
      ::execv(kShimBinary, argv.data());
      _exit(127);
    }
    ::close(out[1]);
    std::string printed;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      pollfd p{.fd = out[0], .events = POLLIN, .revents = 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) break;
      char buf[512];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      printed.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    int wstatus = 0;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
        exited = true;
        break;
      }
      ::usleep(10000);
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
      return Unavailable("shim start did not finish");
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
      return Error(Errc::kUnknown, "shim start failed (status {}): {}", wstatus, printed);
    }
    while (!printed.empty() && (printed.back() == '\n' || printed.back() == ' ')) printed.pop_back();
    if (!printed.starts_with("unix://")) return Error(Errc::kUnknown, "shim printed {:?}", printed);
    socket_path_ = printed.substr(7);
    return printed;
  }

  // Tracks the daemon (not our child: `start` re-executed it and exited).
  void Track(pid_t pid) { pidfd_ = PidfdOpen(pid); }
  bool WaitExit(milliseconds timeout) { return pidfd_ >= 0 && WaitPidfd(pidfd_, timeout); }
  const std::string& socket_path() const { return socket_path_; }

 private:
  fs::path bundle_;
  std::string id_;
  std::string ttrpc_address_;
  int log_fd_ = -1;
  int pidfd_ = -1;
  std::string socket_path_;
};

std::string UniqueId(const char* what) {
  return fmt::format("berth-{}-{}-{}", what, ::getpid(),
                     std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
}

bool CanRunShim() { return ::access(kShimBinary, X_OK) == 0 && ::geteuid() == 0; }

TEST(GoInteropTest, OurClientDrivesTheStockShim) {
  if (!CanRunShim()) GTEST_SKIP() << "needs root and " << kShimBinary;
  TempDir dir;
  std::string id = UniqueId("client");
  StockShim shim(dir.path() / "bundle", id, (dir.path() / "containerd.sock.ttrpc").string());
  auto address = shim.Start();
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_TRUE(address->starts_with("unix:///run/containerd/s/")) << *address;

  LoopThread lt;
  lt.Start();
  auto connected = Client::Connect(lt.loop(), *address);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  std::shared_ptr<Client> client = std::move(*connected);
  std::atomic<bool> closed{false};
  client->OnClose([&] { closed = true; });
  auto opts = WithNamespace(kNamespace, milliseconds(5000));

  task::ConnectRequest creq;
  creq.set_id(id);
  task::ConnectResponse cresp;
  Status st = client->Call(kTaskService, "Connect", creq, &cresp, opts);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_GT(cresp.shim_pid(), 0u);
  EXPECT_EQ(cresp.task_pid(), 0u);
  shim.Track(static_cast<pid_t>(cresp.shim_pid()));

  // The Go side's errdefs error comes back as our kind, message without the kind suffix.
  task::StateRequest sreq;
  sreq.set_id("no-such-container");
  task::StateResponse sresp;
  st = client->Call(kTaskService, "State", sreq, &sresp, opts);
  EXPECT_EQ(st.code(), Errc::kNotFound) << st.ToString();
  EXPECT_EQ(st.message(), "container not created");

  // An unknown method: Go's ttrpc answers Unimplemented.
  st = client->Call(kTaskService, "NoSuchMethod", sreq, nullptr, opts);
  EXPECT_EQ(st.code(), Errc::kNotImplemented) << st.ToString();

  task::ShutdownRequest shreq;
  shreq.set_id(id);
  shreq.set_now(true);
  google::protobuf::Empty empty;
  st = client->Call(kTaskService, "Shutdown", shreq, &empty, opts);
  // The shim may exit before its answer leaves: either is a clean shutdown.
  EXPECT_TRUE(st.ok() || st.code() == Errc::kUnavailable) << st.ToString();
  EXPECT_TRUE(shim.WaitExit(milliseconds(10000))) << "shim did not exit after Shutdown";
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(shim.socket_path()); }, milliseconds(5000)))
      << shim.socket_path() << " left behind";
  EXPECT_TRUE(WaitFor([&] { return closed.load(); }));
  client.reset();
  lt.Sync([] {});
}

// The shim publishes task events to TTRPC_ADDRESS with Events/Forward: serve that with our
// Server and make the shim publish by creating (and deleting) a real container with runc.
TEST(GoInteropTest, StockShimForwardsEventsToOurServer) {
  if (!CanRunShim()) GTEST_SKIP() << "needs root and " << kShimBinary;
  if (::access("/usr/sbin/runc", X_OK) != 0 || ::access("/bin/busybox", X_OK) != 0) {
    GTEST_SKIP() << "needs /usr/sbin/runc and a static /bin/busybox";
  }
  namespace evpb = ::containerd::services::events::ttrpc::v1;
  TempDir dir;
  std::string id = UniqueId("events");
  fs::path bundle = dir.path() / "bundle";
  fs::create_directories(bundle / "rootfs");
  fs::copy_file("/bin/busybox", bundle / "rootfs" / "busybox");
  std::ofstream(bundle / "config.json") << R"({
    "ociVersion": "1.0.2",
    "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
                "args": ["/busybox", "sleep", "30"], "env": ["PATH=/"]},
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "berth-ttrpc",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
                             {"type": "network"}]}
  })";

  // Our events server, where containerd's would be.
  std::string events_socket = (dir.path() / "containerd.sock.ttrpc").string();
  LoopThread lt;
  Server server(lt.loop());
  struct Seen {
    std::string topic, ns, envelope_ns, type_url;
    int64_t timeout_nano;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  server.RegisterUnary<evpb::ForwardRequest, google::protobuf::Empty>(
      "containerd.services.events.ttrpc.v1.Events", "Forward",
      [&](const CallContext& ctx, const evpb::ForwardRequest& req) -> Result<google::protobuf::Empty> {
        std::lock_guard lock(mu);
        seen.push_back(Seen{req.envelope().topic(), ctx.Namespace(), req.envelope().namespace_(),
                            req.envelope().event().type_url(), ctx.timeout_nano});
        return google::protobuf::Empty();
      });
  ASSERT_TRUE(server.Listen(events_socket).ok());
  lt.Start();

  StockShim shim(bundle, id, events_socket);
  auto address = shim.Start();
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  auto connected = Client::Connect(lt.loop(), *address);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  std::shared_ptr<Client> client = std::move(*connected);
  auto opts = WithNamespace(kNamespace, milliseconds(15000));

  task::ConnectRequest creq;
  creq.set_id(id);
  task::ConnectResponse cresp;
  ASSERT_TRUE(client->Call(kTaskService, "Connect", creq, &cresp, opts).ok());
  shim.Track(static_cast<pid_t>(cresp.shim_pid()));

  task::CreateTaskRequest create;
  create.set_id(id);
  create.set_bundle(bundle.string());
  task::CreateTaskResponse created;
  Status st = client->Call(kTaskService, "Create", create, &created, opts);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_GT(created.pid(), 0u);

  task::DeleteRequest del;
  del.set_id(id);
  task::DeleteResponse deleted;
  st = client->Call(kTaskService, "Delete", del, &deleted, opts);
  EXPECT_TRUE(st.ok()) << st.ToString();

  // Deleting the created task also publishes /tasks/exit, in no fixed order with /tasks/delete.
  auto saw = [&](const std::string& topic) {
    std::lock_guard lock(mu);
    for (const auto& e : seen) {
      if (e.topic == topic) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitFor([&] { return saw("/tasks/delete"); }, milliseconds(10000)));
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen[0].topic, "/tasks/create");
    EXPECT_EQ(seen[0].type_url, "containerd.events.TaskCreate");
    EXPECT_EQ(seen[0].ns, kNamespace);
    EXPECT_EQ(seen[0].envelope_ns, kNamespace);
    EXPECT_GT(seen[0].timeout_nano, 0);  // the publisher's 5 s context deadline
  }

  task::ShutdownRequest shreq;
  shreq.set_id(id);
  shreq.set_now(true);
  st = client->Call(kTaskService, "Shutdown", shreq, nullptr, opts);
  EXPECT_TRUE(st.ok() || st.code() == Errc::kUnavailable) << st.ToString();
  EXPECT_TRUE(shim.WaitExit(milliseconds(10000)));
  client.reset();
  lt.Sync([&] { server.Close(); });
  lt.Stop();
  std::error_code ec;
  fs::remove(fs::path("/run/containerd/runc") / kNamespace, ec);  // only if empty
}

}  // namespace
}  // namespace berth::ttrpc
