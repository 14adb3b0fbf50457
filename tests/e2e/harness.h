// End-to-end harness: a real berthd on a fresh temp root/state/socket, and helpers to run
// real clients (containerd's `ctr`, our `berth`) against it. Everything it starts it stops,
// everything it creates it removes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace berth::e2e {

// A directory under /tmp removed (recursively) with its owner.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), capturing stdout and stderr. `extra_env`
// ("NAME=value") overrides this process's environment.
CommandResult Run(const std::vector<std::string>& argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60),
                  const std::vector<std::string>& extra_env = {});

// A process left running in the background (e.g. `ctr events`), output sent to files.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& out_file);
  ~BackgroundProcess();  // SIGTERM, then SIGKILL
  // Waits until the output file contains `needle` or the timeout passes.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const;
  std::string Output() const;
  int Stop();  // returns the exit status (as Run's exit_code)

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_;
  int status_ = -1;
};

// Paths of the binaries under test (from the build) and of containerd's ctr.
std::string BerthdBin();
std::string BerthBin();
std::string CtrBin();

class Berthd {
 public:
  // Starts berthd on dirs under `base`; fails the test if it is not ready in time. `extra_env`
  // ("NAME=value") is set in berthd's environment (over this process's), which its shims and
  // their runtimes inherit: e.g. a PATH that finds a particular criu.
  explicit Berthd(const std::filesystem::path& base, std::vector<std::string> extra_args = {},
                  std::vector<std::string> extra_env = {});
  ~Berthd();
  Berthd(const Berthd&) = delete;
  Berthd& operator=(const Berthd&) = delete;

  void Start();
  // SIGTERM and wait; returns the exit status.
  int Stop();
  // SIGKILL: a crash, leaving whatever state is on disk.
  void Kill();
  // Waits for berthd to exit on its own (e.g. at a crash point); returns its exit status as
  // Run's exit_code (137 for SIGKILL), or -1 when it is still running after `timeout` (it is
  // left running then).
  int WaitForExit(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& state() const { return state_; }
  std::string Log() const;

  // `ctr --address SOCK args...`
  CommandResult Ctr(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // `berth --address SOCK args...`
  CommandResult Berth(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  std::vector<std::string> CtrArgv(const std::vector<std::string>& args) const;
  std::vector<std::string> BerthArgv(const std::vector<std::string>& args) const;

 private:
  std::filesystem::path root_, state_, socket_, log_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> extra_env_;
  pid_t pid_ = -1;
};

// The usual test shape: one temp dir, one daemon started in SetUp, stopped (cleanly,
// asserted) in TearDown.
class BerthdTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
};

std::string Describe(const CommandResult& r);

// Mount points at or below `dir` in this mount namespace (/proc/self/mountinfo), deepest
// first (the order to unmount them in).
std::vector<std::string> MountsUnder(const std::filesystem::path& dir);

// The whole content of a file ("" if it cannot be read).
std::string ReadFile(const std::filesystem::path& p);

// Occurrences of `needle` in `text` (e.g. a log line the daemon writes once per event).
size_t Count(std::string_view text, std::string_view needle);

// Live processes (other than this one) whose command line mentions `needle` (e.g. a daemon's
// socket path, which its shims carry): "PID command line" each.
std::vector<std::string> ProcessesMentioning(const std::string& needle);

// Removes the per-namespace parent cgroups (/sys/fs/cgroup/<controller>/<ns>, and the cgroup2
// one) that runc leaves after the last container of namespace `ns` is gone (ctr's cgroup path is
// /<ns>/<id>). Returns the ones that could not be removed because containers' cgroups are still
// in them: a leak.
std::vector<std::string> RemoveNamespaceCgroups(const std::string& ns);

// The cgroups of container `id` of namespace `ns` (/sys/fs/cgroup/<controller>/<ns>/<id>) that
// still exist: a leak once its task is gone. For tests in a namespace other tests share
// (default), where the namespace's parent cgroup may hold their containers.
std::vector<std::string> ContainerCgroupsLeft(const std::string& ns, const std::string& id);

// Polls `done` until it holds or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace berth::e2e
