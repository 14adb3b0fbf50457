#include "berth/bench_raw.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/unique_fd.h"
#include "mount/mount.h"
#include "oci/generate.h"

extern char** environ;

namespace berth::cli {

namespace fs = std::filesystem;

namespace {

// The view's layers as overlay's lowerdir= value: a single layer is a read-only bind mount of
// it, several an overlay of them.
Result<std::string> LowerDirOf(const std::vector<client::Mount>& mounts) {
  if (mounts.size() != 1) return InvalidArgument("raw bench: a view of {} mounts (one expected)", mounts.size());
  const client::Mount& m = mounts.front();
  if (m.type == "bind" || m.type == "rbind") return m.source;
  if (m.type == "overlay") {
    for (const std::string& o : m.options) {
      if (o.rfind("lowerdir=", 0) == 0) return o.substr(9);
    }
  }
  return InvalidArgument("raw bench: a view mounted as {} (bind or overlay expected)", m.type);
}

}  // namespace

Result<RawBench> RawBench::Create(const std::vector<client::Mount>& view_mounts, std::string runtime_binary,
                                  fs::path work_dir, std::string namespace_name, oci::ImageConfig image_config,
                                  std::vector<std::string> command) {
  RawBench b;
  BERTH_ASSIGN_OR_RETURN(b.lowerdir_, LowerDirOf(view_mounts));
  b.runtime_ = runtime_binary.empty() ? "runc" : std::move(runtime_binary);
  b.work_ = std::move(work_dir);
  b.state_ = b.work_ / "state";
  if (::mkdir(b.state_.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("create " + b.state_.string(), errno);
  }
  b.namespace_name_ = std::move(namespace_name);
  b.image_config_ = std::move(image_config);
  b.command_ = std::move(command);
  return b;
}

Status RawBench::RunRuntime(const std::vector<std::string>& args, std::string* out) const {
  std::vector<std::string> argv = {runtime_, "--root", state_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  // stdin and stderr /dev/null (a detached container inherits them), stdout a pipe when asked.
  int fds[2] = {-1, -1};
  if (out != nullptr && ::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (out != nullptr) {
    posix_spawn_file_actions_adddup2(&fa, write_end.get(), STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, runtime_.c_str(), &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ErrnoStatus("run " + runtime_, rc);
  write_end.Reset();
  if (out != nullptr) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out->append(buf, static_cast<size_t>(n));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus("wait for " + runtime_, errno);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Unknown("{} {} failed ({})", runtime_, args.front(),
                   WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status)));
  }
  return Status::Ok();
}

Status RawBench::Start(const std::string& id) const {
  const fs::path dir = work_ / id;
  const fs::path rootfs = dir / "rootfs";
  for (const fs::path& d : {dir, dir / "upper", dir / "work", rootfs}) {
    if (::mkdir(d.c_str(), 0711) != 0) return ErrnoStatus("create " + d.string(), errno);
  }
  client::Mount overlay{"overlay", "overlay",
                        {"lowerdir=" + lowerdir_, "upperdir=" + (dir / "upper").string(),
                         "workdir=" + (dir / "work").string()}};
  BERTH_RETURN_IF_ERROR(mount::MountAt(overlay, rootfs));
  oci::SpecOptions options;
  options.namespace_name = namespace_name_;
  options.id = id;
  options.image = image_config_;
  options.args = command_;
  options.rootfs = rootfs;
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, oci::GenerateSpec(options));
  spec.root.path = "rootfs";
  BERTH_RETURN_IF_ERROR(files::WriteFile(dir / "config.json", oci::ToJson(spec).dump(), 0600));
  return RunRuntime({"run", "-d", "--bundle", dir.string(), id});
}

Status RawBench::Teardown(const std::string& id) const {
  // Every step is tried even after one failed (a start that failed half-way left a mount but
  // no container): the first failure is the answer, and the rootfs is never left mounted.
  const fs::path dir = work_ / id;
  Status deleted = RunRuntime({"delete", "-f", id});
  Status unmounted = mount::UnmountAll(dir / "rootfs");
  if (!unmounted.ok()) return deleted.ok() ? unmounted : deleted;
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!deleted.ok()) return deleted;
  if (ec) return Unknown("remove {}: {}", dir.string(), ec.message());
  return Status::Ok();
}

Result<int> RawBench::CountRunning(const std::vector<std::string>& ids) const {
  std::string out;
  BERTH_RETURN_IF_ERROR(RunRuntime({"list", "--format", "json"}, &out));
  auto list = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (list.is_null()) return 0;  // runc prints "null" for none
  if (!list.is_array()) return Unknown("{} list: not a JSON array", runtime_);
  const std::set<std::string> ours(ids.begin(), ids.end());
  int running = 0;
  for (const auto& c : list) {
    if (!c.is_object()) continue;
    if (ours.count(c.value("id", "")) != 0 && c.value("status", "") == "running") ++running;
  }
  return running;
}

}  // namespace berth::cli
