#include "shim/shim_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <google/protobuf/any.pb.h>

#include "common/cgroups.h"
#include "common/files.h"
#include "common/logging.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "mount/mount.h"
#include "shim/exit_status.h"
#include "shim/log_sink.h"
#include "shim/oci_runtime.h"
#include "shim/publisher.h"
#include "shim/runtime_options.h"
#include "shim/socket.h"
#include "shim/task_service.h"
#include "shim/version.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/server.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kListenFd = 3;

std::string BundleOf(const ShimFlags& f) {
  if (!f.bundle.empty()) return f.bundle;
  std::error_code ec;
  return fs::current_path(ec).string();
}

// The bundle's "address" file: the serving shim's socket address ("" when unreadable).
std::string ReadAddress(const std::string& bundle) {
  auto text = files::ReadSmall(bundle + "/address");
  return text.ok() ? *text : "";
}

std::string ReadStdin() {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

int Fail(std::string_view what, const Status& st) {
  std::fprintf(stderr, "berth-shim: %.*s: %s\n", static_cast<int>(what.size()), what.data(), st.ToString().c_str());
  return 1;
}

// The serving shim: same binary, same identity flags, listener on fd 3, own session.
Result<pid_t> SpawnServer(const ShimFlags& f, const std::string& bundle, int listen_fd) {
  // Executed by its real path, so that the process is named berth-shim (ps -C, pgrep), not "exe".
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::string image = self.empty() ? std::string("/proc/self/exe") : self;
  if (self.empty()) self = "berth-shim";
  std::vector<std::string> args = {self, "-namespace", f.ns, "-id", f.id, "-address", f.address};
  if (!f.publish_binary.empty()) args.insert(args.end(), {"-publish-binary", f.publish_binary});
  if (f.debug) args.push_back("-debug");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    ::setsid();
    if (::chdir(bundle.c_str()) != 0) _exit(127);
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd < 0) _exit(127);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    if (listen_fd == kListenFd) {
      ::fcntl(kListenFd, F_SETFD, 0);
    } else if (::dup2(listen_fd, kListenFd) < 0) {
      _exit(127);
    }
    ::close_range(kListenFd + 1, ~0U, 0);
    ::execv(image.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int RunStart(const ShimFlags& f) {
  std::string bundle = BundleOf(f);
  std::string input = ReadStdin();
  RuncOptions options;
  if (!input.empty()) {
    google::protobuf::Any any;
    if (!any.ParseFromString(input)) return Fail("start", InvalidArgument("cannot decode options on stdin"));
    auto opts = UnpackOptions(any);
    if (!opts.ok()) return Fail("start", opts.status());
    if (Status st = WriteOptions(bundle, *opts); !st.ok()) return Fail("start", st);
    options = *opts;
  }
  std::string path = SocketPath(kDefaultSocketDir, f.address, f.ns, f.id);
  std::string address = SocketAddress(path);
  auto fd = ListenUnix(path);
  if (!fd.ok() && fd.status().Is(Errc::kAlreadyExists)) {
    if (CanConnect(path)) {
      // A shim for this task is alive: hand out its address again.
      files::WriteFile(bundle + "/address", address).IgnoreError();
      std::fputs(address.c_str(), stdout);
      return 0;
    }
    RemoveSocket(path);
    fd = ListenUnix(path);
  }
  if (!fd.ok()) return Fail("create new shim socket", fd.status());
  if (Status st = files::WriteFile(bundle + "/address", address); !st.ok()) {
    RemoveSocket(path);
    return Fail("start", st);
  }
  auto pid = SpawnServer(f, bundle, fd->get());
  fd->Reset();  // the serving shim has its copy
  if (!pid.ok()) {
    RemoveSocket(path);
    return Fail("start", pid.status());
  }
  files::WriteFile(bundle + "/shim.pid", std::to_string(*pid)).IgnoreError();
  if (!options.shim_cgroup().empty()) {
    if (Status st = cgroups::JoinCgroup(*pid, options.shim_cgroup()); !st.ok()) {
      ::kill(*pid, SIGKILL);
      ::waitpid(*pid, nullptr, 0);
      RemoveSocket(path);
      return Fail("start", st);
    }
  }
  std::fputs(address.c_str(), stdout);
  std::fflush(stdout);
  return 0;
}

int RunDelete(const ShimFlags& f) {
  std::string bundle = BundleOf(f);
  RuncOptions opts;
  if (auto o = ReadOptions(bundle); o.ok()) opts = *o;
  OciRuntime runtime(RuntimeConfigFor(opts, f.ns, bundle));
  if (Status st = runtime.Delete(f.id, true); !st.ok()) {
    log::Warn("failed to remove runc container", {{"id", f.id}, {"error", st.ToString()}});
  }
  if (Status st = mount::UnmountAll(bundle + "/rootfs"); !st.ok()) {
    log::Warn("failed to cleanup rootfs mount", {{"id", f.id}, {"error", st.ToString()}});
  }
  // A shim that died leaves its socket: nobody else removes it.
  std::string address = ReadAddress(bundle);
  if (!address.empty()) {
    std::string path(SocketPathOf(address));
    if (!CanConnect(path)) RemoveSocket(path);
  }
  containerd::task::v2::DeleteResponse resp;
  auto pid = ReadPidFile(bundle + "/init.pid");
  resp.set_pid(pid.ok() ? static_cast<uint32_t>(*pid) : 0);
  resp.set_exit_status(kKilledExitStatus);
  *resp.mutable_exited_at() = ToProto(Clock::now());
  std::string out = resp.SerializeAsString();
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

int RunServe(const ShimFlags& f) {
  std::string bundle = BundleOf(f);
  SetupLogging(bundle, f.debug);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return Fail("signalfd", ErrnoStatus("signalfd", errno));

  auto loop_or = ttrpc::EventLoop::Create();
  if (!loop_or.ok()) return Fail("event loop", loop_or.status());
  ttrpc::EventLoop& loop = **loop_or;

  std::string socket_path = f.socket;
  UniqueFd listener;
  if (!socket_path.empty()) {
    auto fd = ListenUnix(socket_path);
    if (!fd.ok()) return Fail("listen", fd.status());
    listener = std::move(*fd);
  } else {
    socket_path = std::string(SocketPathOf(ReadAddress(bundle)));
    listener.Reset(kListenFd);  // inherited from `start`
    ::fcntl(kListenFd, F_SETFD, FD_CLOEXEC);
  }

  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  Publisher publisher(loop, ttrpc_address != nullptr ? ttrpc_address : "", f.ns);
  ttrpc::Server server(loop);

  bool stopping = false;
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> drain_then_stop;
  drain_then_stop = [&] {
    if (publisher.idle() || std::chrono::steady_clock::now() >= deadline) {
      server.Close();
      loop.Stop();
      return;
    }
    loop.AddTimer(20ms, drain_then_stop);
  };
  auto shutdown = [&] {
    if (stopping) return;
    stopping = true;
    deadline = std::chrono::steady_clock::now() + 3s;
    // Later, so that the reply to a Shutdown request goes out first.
    loop.AddTimer(20ms, drain_then_stop);
  };

  TaskServiceConfig cfg;
  cfg.ns = f.ns;
  if (auto o = ReadOptions(bundle); o.ok()) {
    cfg.default_options = *o;
    cfg.has_default_options = true;
  }
  TaskService service(loop, publisher, cfg, shutdown);
  service.Register(server);

  Status st = loop.Add(sigfd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo si;
    while (::read(sigfd.get(), &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGCHLD) {
        int wstatus = 0;
        pid_t pid;
        while ((pid = ::waitpid(-1, &wstatus, WNOHANG)) > 0) {
          service.HandleExit(pid, ExitStatusFromWait(wstatus));
        }
      } else {
        log::Info("signal: shutting down", {{"signal", si.ssi_signo}});
        shutdown();
      }
    }
  });
  if (!st.ok()) return Fail("signalfd", st);
  if (Status s2 = server.Serve(std::move(listener)); !s2.ok()) return Fail("serve", s2);
  log::Info("serving", {{"id", f.id}, {"namespace", f.ns}, {"socket", socket_path}});

  Status run = loop.Run();
  loop.Remove(sigfd.get());
  publisher.Close();
  RemoveSocket(socket_path);
  log::Info("shim exiting", {{"id", f.id}});
  return run.ok() ? 0 : 1;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = ParseFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "berth-shim: %s\n", flags.status().ToString().c_str());
    return 2;
  }
  if (flags->version) {
    std::printf("berth-shim:\n  Version:  %s\n", BERTH_SHIM_VERSION);
    return 0;
  }
  if (flags->ns.empty()) {
    std::fprintf(stderr, "berth-shim: shim namespace cannot be empty\n");
    return 1;
  }
  if (flags->action == "start") return RunStart(*flags);
  if (flags->action == "delete") return RunDelete(*flags);
  if (!flags->action.empty()) {
    std::fprintf(stderr, "berth-shim: unknown action %s\n", flags->action.c_str());
    return 2;
  }
  return RunServe(*flags);
}

}  // namespace berth::shim
