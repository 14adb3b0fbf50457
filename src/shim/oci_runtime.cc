#include "shim/oci_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "shim/exit_status.h"

namespace berth::shim {
namespace {

off_t FileSize(const std::string& path) {
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return 0;
  return st.st_size;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(char* const* argv, int in, int out, int err) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD}) signal(s, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // dup to high numbers first so that moving onto 0/1/2 cannot clobber a source.
  int fds[3] = {in, out, err};
  for (int& fd : fds) fd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  for (int i = 0; i < 3; ++i) {
    if (fds[i] < 0 || dup2(fds[i], i) < 0) _exit(127);
  }
  close_range(3, ~0U, 0);
  execvp(argv[0], argv);
  _exit(127);
}

}  // namespace

std::string LastRuntimeError(const std::string& log_text) {
  std::string msg;
  size_t pos = 0;
  while (pos < log_text.size()) {
    size_t end = log_text.find('\n', pos);
    if (end == std::string::npos) end = log_text.size();
    std::string_view line(log_text.data() + pos, end - pos);
    pos = end + 1;
    if (line.find("\"error\"") == std::string_view::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;
    auto lvl = j.find("level");
    auto m = j.find("msg");
    if (lvl != j.end() && lvl->is_string() && *lvl == "error" && m != j.end() && m->is_string()) {
      msg = Trim(m->get<std::string>());
    }
  }
  return msg;
}

Result<int> ReadPidFile(const std::string& path) {
  auto text = files::ReadSmall(path);
  int pid = 0;
  if (!text.ok() || !(std::istringstream(*text) >> pid) || pid <= 0) {
    return Unknown("failed to retrieve OCI runtime pid from {}", path);
  }
  return pid;
}

Status KillError(const Status& e) {
  if (e.ok()) return e;
  std::string lower = e.message();
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("container not running") != std::string::npos ||
      lower.find("no such process") != std::string::npos ||
      lower.find("process already finished") != std::string::npos) {
    return NotFound("process already finished");
  }
  if (lower.find("does not exist") != std::string::npos) return NotFound("no such container");
  return Unknown("unknown error after kill: {}", e.message());
}

std::vector<std::string> OciRuntime::GlobalArgs() const {
  std::vector<std::string> a = {config_.binary};
  if (!config_.root.empty()) a.insert(a.end(), {"--root", config_.root});
  if (!config_.log_path.empty()) a.insert(a.end(), {"--log", config_.log_path, "--log-format", "json"});
  if (config_.systemd_cgroup) a.push_back("--systemd-cgroup");
  if (!config_.criu_path.empty()) a.insert(a.end(), {"--criu", config_.criu_path});
  return a;
}

namespace {

// fork/exec `argv`, wait for it, its output captured unless `stdio` is given.
Result<OciRuntime::Output> Spawn(std::vector<std::string> argv, const ChildStdio* stdio,
                                 const std::string& stdin_data) {
  std::vector<char*> cargv;
  for (auto& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);

  // Captured output goes to memory files: no pipe to drain, no deadlock on a chatty runtime.
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) return ErrnoStatus("runtime output files", errno);
  UniqueFd out_fd(::memfd_create("runtime-out", MFD_CLOEXEC));
  if (!out_fd) return ErrnoStatus("runtime output files", errno);
  UniqueFd err_fd(::memfd_create("runtime-err", MFD_CLOEXEC));
  if (!err_fd) return ErrnoStatus("runtime output files", errno);
  UniqueFd in_fd;
  if (!stdin_data.empty()) {
    in_fd.Reset(::memfd_create("runtime-in", MFD_CLOEXEC));
    if (!in_fd) return ErrnoStatus("runtime output files", errno);
    BERTH_RETURN_IF_ERROR(files::WriteAll(in_fd.get(), stdin_data, "runtime stdin"));
    ::lseek(in_fd.get(), 0, SEEK_SET);  // the child reads from the start
  }
  int cin = in_fd ? in_fd.get() : null_fd.get(), cout = out_fd.get(), cerr = err_fd.get();
  if (stdio != nullptr) {
    cin = stdio->in >= 0 ? stdio->in : null_fd.get();
    cout = stdio->out >= 0 ? stdio->out : null_fd.get();
    cerr = stdio->err >= 0 ? stdio->err : null_fd.get();
  }
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork " + argv[0], errno);
  if (pid == 0) ExecChild(cargv.data(), cin, cout, cerr);

  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  OciRuntime::Output o;
  o.exit_status = static_cast<int>(ExitStatusFromWait(wstatus));
  BERTH_ASSIGN_OR_RETURN(o.out, files::ReadFd(out_fd.get(), "runtime stdout", 0, files::kNoLimit));
  BERTH_ASSIGN_OR_RETURN(o.err, files::ReadFd(err_fd.get(), "runtime stderr", 0, files::kNoLimit));
  return o;
}

}  // namespace

Result<OciRuntime::Output> RunProgram(const std::vector<std::string>& argv) { return Spawn(argv, nullptr, ""); }

Result<OciRuntime::Output> OciRuntime::Run(const std::vector<std::string>& args, const ChildStdio* stdio,
                                           const std::string& stdin_data) const {
  std::vector<std::string> argv = GlobalArgs();
  argv.insert(argv.end(), args.begin(), args.end());
  off_t log_from = FileSize(config_.log_path);
  BERTH_ASSIGN_OR_RETURN(Output o, Spawn(std::move(argv), stdio, stdin_data));
  if (o.exit_status == 0) return o;

  std::string msg;
  if (!config_.log_path.empty()) {
    if (auto log = files::Open(config_.log_path, O_RDONLY); log.ok()) {
      if (auto text = files::ReadFd(log->get(), config_.log_path, log_from, files::kNoLimit); text.ok()) {
        msg = LastRuntimeError(*text);
      }
    }
  }
  if (msg.empty()) msg = Trim(o.err);
  if (msg.empty() && o.exit_status == 127) msg = fmt::format("exec {}: not found", config_.binary);
  if (msg.empty()) msg = fmt::format("{}: exit status {}", config_.binary, o.exit_status);
  return Unknown("{}", msg);
}

Status OciRuntime::Create(const std::string& id, const CreateOptions& o) const {
  std::vector<std::string> a = {"create", "--bundle", o.bundle, "--pid-file", o.pid_file};
  if (!o.console_socket.empty()) a.insert(a.end(), {"--console-socket", o.console_socket});
  if (o.no_pivot) a.push_back("--no-pivot");
  if (o.no_new_keyring) a.push_back("--no-new-keyring");
  a.push_back(id);
  return Run(a, &o.stdio).status();
}

Status OciRuntime::Start(const std::string& id) const { return Run({"start", id}, nullptr).status(); }

Status OciRuntime::Kill(const std::string& id, int signal, bool all) const {
  std::vector<std::string> a = {"kill"};
  if (all) a.push_back("--all");
  a.insert(a.end(), {id, std::to_string(signal)});
  return Run(a, nullptr).status();
}

Status OciRuntime::Delete(const std::string& id, bool force) const {
  std::vector<std::string> a = {"delete"};
  if (force) a.push_back("--force");
  a.push_back(id);
  return Run(a, nullptr).status();
}

Status OciRuntime::Pause(const std::string& id) const { return Run({"pause", id}, nullptr).status(); }
Status OciRuntime::Resume(const std::string& id) const { return Run({"resume", id}, nullptr).status(); }

Status OciRuntime::Exec(const std::string& id, const ExecOptions& o) const {
  std::vector<std::string> a = {"exec", "--detach", "--pid-file", o.pid_file, "--process", o.process_json};
  if (!o.console_socket.empty()) a.insert(a.end(), {"--console-socket", o.console_socket});
  a.push_back(id);
  return Run(a, &o.stdio).status();
}

Status OciRuntime::Update(const std::string& id, const std::string& resources_json) const {
  return Run({"update", "--resources", "-", id}, nullptr, resources_json).status();
}

namespace {

void AppendCriuArgs(const CriuOptions& o, std::vector<std::string>& a) {
  a.insert(a.end(), {"--image-path", o.image_path});
  if (!o.work_path.empty()) a.insert(a.end(), {"--work-path", o.work_path});
  if (!o.parent_path.empty()) a.insert(a.end(), {"--parent-path", o.parent_path});
  if (o.tcp_established) a.push_back("--tcp-established");
  if (o.ext_unix_sockets) a.push_back("--ext-unix-sk");
  if (o.shell_job) a.push_back("--shell-job");
  if (o.file_locks) a.push_back("--file-locks");
  for (const auto& ns : o.empty_namespaces) a.insert(a.end(), {"--empty-ns", ns});
  if (!o.cgroups_mode.empty()) a.insert(a.end(), {"--manage-cgroups-mode", o.cgroups_mode});
}

}  // namespace

Status OciRuntime::Checkpoint(const std::string& id, const CriuOptions& opts, const CheckpointActions& act) const {
  std::vector<std::string> a = {"checkpoint"};
  AppendCriuArgs(opts, a);
  if (act.leave_running) a.push_back("--leave-running");
  if (act.pre_dump) a.push_back("--pre-dump");
  a.push_back(id);
  return Run(a, nullptr).status();
}

Status OciRuntime::Restore(const std::string& id, const RestoreOptions& o) const {
  std::vector<std::string> a = {"restore"};
  AppendCriuArgs(o.criu, a);
  a.insert(a.end(), {"--pid-file", o.pid_file});
  if (!o.console_socket.empty()) a.insert(a.end(), {"--console-socket", o.console_socket});
  a.insert(a.end(), {"--detach", "--no-subreaper", "--bundle", o.bundle});
  if (o.no_pivot) a.push_back("--no-pivot");
  a.push_back(id);
  return Run(a, &o.stdio).status();
}

Result<std::vector<int>> OciRuntime::Ps(const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(Output o, Run({"ps", "--format", "json", id}, nullptr));
  auto j = nlohmann::json::parse(o.out, nullptr, false);
  if (!j.is_array()) return Unknown("{} ps: unexpected output {:?}", config_.binary, o.out);
  std::vector<int> pids;
  for (const auto& v : j) {
    if (v.is_number_integer()) pids.push_back(v.get<int>());
  }
  return pids;
}

}  // namespace berth::shim
