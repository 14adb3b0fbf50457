#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace berth::e2e {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "berth-e2e-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// This process's environment with `extra` ("NAME=value") set: a name given in `extra` replaces
// the inherited entry (getenv finds the first one, so appending would not override it).
std::vector<std::string> EnvWith(const std::vector<std::string>& extra) {
  auto name_of = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return name_of(x) == name_of(kv); });
    if (!replaced) env.emplace_back(kv);
  }
  for (const auto& x : extra) env.push_back(x);
  return env;
}

// waitpid with a deadline; kills the child when it passes.
int WaitWithTimeout(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return DecodeStatus(status);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return DecodeStatus(status);
    }
    std::this_thread::sleep_for(5ms);
  }
}

bool SocketAccepts(const fs::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

std::string BerthdBin() { return EnvOr("BERTHD_BIN", BERTH_TEST_BERTHD_BIN); }
std::string BerthBin() { return EnvOr("BERTH_BIN", BERTH_TEST_BERTH_BIN); }
std::string CtrBin() { return EnvOr("CTR_BIN", "/usr/bin/ctr"); }

CommandResult Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                  const std::vector<std::string>& extra_env) {
  CommandResult res;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return res;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  auto args = CStrings(argv);
  auto env_strings = EnvWith(extra_env);
  auto envp = CStrings(env_strings);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    res.err = "spawn failed: " + std::string(std::strerror(rc));
    return res;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&res.out, &res.err};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) if (f.fd >= 0) ::close(f.fd);
  res.exit_code = WaitWithTimeout(pid, killed ? 1ms : 10s);
  if (killed) res.err += "\n[killed after timeout]";
  return res;
}

std::string Describe(const CommandResult& r) {
  return "exit=" + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

std::vector<std::string> MountsUnder(const fs::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point == dir.string() || point.starts_with(dir.string() + "/")) out.push_back(point);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

size_t Count(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- BackgroundProcess ----

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const fs::path& out_file)
    : out_(out_file) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  auto args = CStrings(argv);
  if (::posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

BackgroundProcess::~BackgroundProcess() { Stop(); }

bool BackgroundProcess::WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Output().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return Output().find(needle) != std::string::npos;
}

std::string BackgroundProcess::Output() const { return ReadFile(out_); }

int BackgroundProcess::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    status_ = WaitWithTimeout(pid_, 5s);
    pid_ = -1;
  }
  return status_;
}

// ---- Berthd ----

Berthd::Berthd(const fs::path& base, std::vector<std::string> extra_args, std::vector<std::string> extra_env)
    : root_(base / "root"), state_(base / "state"), socket_(base / "berth.sock"),
      log_(base / "berthd.log"), extra_args_(std::move(extra_args)), extra_env_(std::move(extra_env)) {
  fs::create_directories(base);  // the log file lives there from the first moment
  Start();
}

Berthd::~Berthd() {
  if (running()) Stop();
}

void Berthd::Start() {
  std::vector<std::string> argv = {BerthdBin(), "--root", root_.string(), "--state", state_.string(),
                                   "--address", socket_.string(), "--log-level", "debug"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  auto args = CStrings(argv);
  auto env_strings = EnvWith(extra_env_);
  auto envp = CStrings(env_strings);
  const size_t collections_before = Count(Log(), "garbage collected");
  int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ASSERT_EQ(rc, 0) << "spawn " << argv[0] << ": " << std::strerror(rc);
  // Ready once the socket accepts and the collection berthd runs shortly after start-up has
  // run: content or snapshots a test makes without a lease or a gc.root label are collectable
  // (as in containerd), and that first collection must not race with the test's first steps.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool accepting = false;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "berthd exited during start-up (status " << DecodeStatus(status) << "):\n" << Log();
    }
    accepting = accepting || SocketAccepts(socket_);
    if (accepting && Count(Log(), "garbage collected") > collections_before) return;
    std::this_thread::sleep_for(10ms);
  }
  FAIL() << "berthd did not become ready (socket accepting: " << accepting
         << ", start-up collection done: no) in 30s:\n" << Log();
}

int Berthd::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = WaitWithTimeout(pid_, 20s);
  pid_ = -1;
  return code;
}

void Berthd::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitWithTimeout(pid_, 20s);
  pid_ = -1;
}

int Berthd::WaitForExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return DecodeStatus(status);
    }
    std::this_thread::sleep_for(5ms);
  }
  return -1;
}

std::string Berthd::Log() const { return ReadFile(log_); }

std::vector<std::string> Berthd::CtrArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {CtrBin(), "--address", socket_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> Berthd::BerthArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {BerthBin(), "--address", socket_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult Berthd::Ctr(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  return Run(CtrArgv(args), timeout);
}

CommandResult Berthd::Berth(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  return Run(BerthArgv(args), timeout);
}

// ---- BerthdTest ----

void BerthdTest::SetUp() {
  dir_ = std::make_unique<TempDir>();
  daemon_ = std::make_unique<Berthd>(dir_->path());
}

void BerthdTest::TearDown() {
  if (daemon_ && daemon_->running()) {
    int code = daemon_->Stop();
    EXPECT_EQ(code, 0) << "berthd did not exit cleanly on SIGTERM:\n" << daemon_->Log();
    EXPECT_FALSE(fs::exists(daemon_->socket())) << "socket left behind";
  }
  daemon_.reset();
  dir_.reset();
}

std::vector<std::string> ProcessesMentioning(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string self = std::to_string(::getpid());
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename().string();
    if (pid == self || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadFile(e.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) != std::string::npos) out.push_back(pid + " " + cmd);
  }
  return out;
}

std::vector<std::string> RemoveNamespaceCgroups(const std::string& ns) {
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& ctl : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    fs::path dir = ctl.path() / ns;
    if (!fs::is_directory(dir, ec)) continue;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) left.push_back(dir.string());
  }
  return left;
}

std::vector<std::string> ContainerCgroupsLeft(const std::string& ns, const std::string& id) {
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& ctl : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    fs::path dir = ctl.path() / ns / id;
    if (fs::is_directory(dir, ec)) left.push_back(dir.string());
  }
  return left;
}

}  // namespace berth::e2e
