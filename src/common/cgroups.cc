#include "common/cgroups.h"

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "common/files.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace berth::cgroups {
namespace fs = std::filesystem;

namespace {

Status WriteProcs(const fs::path& dir, pid_t pid) {
  fs::path procs = dir / "cgroup.procs";
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open(procs, O_WRONLY));
  return files::WriteAll(fd.get(), std::to_string(pid), procs);
}

}  // namespace

bool IsUnifiedCgroup(const std::string& root) {
  struct statfs fs{};
  return ::statfs(root.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
}

Status JoinCgroup(pid_t pid, const std::string& path, const std::string& root) {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty() || fs::path(rel).lexically_normal().string().starts_with("..")) {
    return InvalidArgument("shim cgroup {:?} is not a cgroup path", path);
  }
  if (IsUnifiedCgroup(root)) {
    fs::path dir = fs::path(root) / rel;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return NotFound("failed to load cgroup {}: {} does not exist", path, dir.string());
    return WriteProcs(dir, pid);
  }
  // v1 (or hybrid): every hierarchy mounted under root that has the path. Named and unified
  // hierarchies (cgroup2 under root/unified) are left alone, as containerd's v1 loader does.
  int joined = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    std::string name = entry.path().filename().string();
    if (name == "unified" || name.starts_with("name=")) continue;
    fs::path dir = entry.path() / rel;
    if (!fs::is_directory(dir, ec)) continue;
    BERTH_RETURN_IF_ERROR(WriteProcs(dir, pid).Wrap(fmt::format("failed to join cgroup {}", path)));
    ++joined;
  }
  if (joined == 0) return NotFound("failed to load cgroup {}: no hierarchy under {} has it", path, root);
  return Status::Ok();
}

}  // namespace berth::cgroups
