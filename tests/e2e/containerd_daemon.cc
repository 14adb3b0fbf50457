#include "containerd_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Only what the comparisons need: content, metadata, snapshotters, diff, leases, GC. CRI and
// the snapshotters this machine cannot run stay off, so start-up is quick and quiet.
std::string ConfigToml(const fs::path& root, const fs::path& state, const fs::path& socket) {
  std::ostringstream c;
  c << "version = 2\n"
    << "root = \"" << root.string() << "\"\n"
    << "state = \"" << state.string() << "\"\n"
    << "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\","
       " \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\","
       " \"io.containerd.snapshotter.v1.aufs\", \"io.containerd.tracing.processor.v1.otlp\"]\n"
    << "[grpc]\n  address = \"" << socket.string() << "\"\n"
    << "[ttrpc]\n  address = \"" << socket.string() << ".ttrpc\"\n"
    << "[debug]\n  address = \"\"\n  level = \"info\"\n"
    << "[metrics]\n  address = \"\"\n"
    << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << (root / "opt").string() << "\"\n";
  return c.str();
}

}  // namespace

Containerd::Containerd(const fs::path& base)
    : root_(base / "root"), state_(base / "state"), socket_(base / "containerd.sock"),
      config_(base / "config.toml"), log_(base / "containerd.log") {
  fs::create_directories(base);
  std::ofstream(config_) << ConfigToml(root_, state_, socket_);
  std::vector<std::string> argv = {kBinary, "--config", config_.string()};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "spawn " << kBinary << ": " << std::strerror(rc);
    return;
  }
  bool ready = WaitUntil(
      [&] {
        int status = 0;
        if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
        return pid_ < 0 || (fs::exists(socket_) && Ctr({"version"}, 10s).exit_code == 0);
      },
      60s);
  if (pid_ < 0) ADD_FAILURE() << "containerd exited during start-up:\n" << Log();
  if (!ready) ADD_FAILURE() << "containerd did not become ready in 60s:\n" << Log();
}

Containerd::~Containerd() { Stop(); }

void Containerd::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  bool gone = WaitUntil([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, 20s);
  if (!gone) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

std::string Containerd::Log() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CommandResult Containerd::Ctr(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {CtrBin(), "--address", socket_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, timeout);
}

}  // namespace berth::e2e
