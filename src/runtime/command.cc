#include "runtime/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "common/files.h"
#include "common/unique_fd.h"

extern char** environ;

namespace berth::runtime {

namespace {

struct Pipe {
  UniqueFd r, w;
  Status Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    r.Reset(fds[0]);
    w.Reset(fds[1]);
    return Status::Ok();
  }
};

std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    env[kv.substr(0, kv.find('='))] = kv;
  }
  for (const auto& kv : extra) env[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (auto& [k, v] : env) out.push_back(std::move(v));
  return out;
}

}  // namespace

Result<CommandOutput> RunCommand(const Command& cmd) {
  Pipe in, out, err;
  BERTH_RETURN_IF_ERROR(in.Open());
  BERTH_RETURN_IF_ERROR(out.Open());
  BERTH_RETURN_IF_ERROR(err.Open());

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.r.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out.w.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err.w.get(), STDERR_FILENO);
  if (!cmd.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cmd.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with default signal dispositions and an empty mask, whatever the daemon
  // blocks in its threads.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env = MergedEnv(cmd.extra_env);
  std::vector<char*> argv, envp;
  argv.push_back(const_cast<char*>(cmd.path.c_str()));
  for (const auto& a : cmd.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, cmd.path.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Unavailable("start {}: {}", cmd.path, std::strerror(rc));
  // The child has its copies: EOF on out/err comes when it (and its children) close theirs.
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();

  // Feed stdin (small: a serialized options message), then close it.
  // A program that does not read its stdin is not our problem.
  files::WriteAll(in.w.get(), cmd.stdin_data, cmd.path + " stdin").IgnoreError();
  in.w.Reset();

  CommandOutput result;
  auto deadline = std::chrono::steady_clock::now() + cmd.timeout;
  bool timed_out = false;
  pollfd fds[2] = {{out.r.get(), POLLIN, 0}, {err.r.get(), POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status(Errc::kDeadlineExceeded,
                  fmt::format("{} did not finish within {} ms", cmd.path, cmd.timeout.count()));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace berth::runtime
