// Path handling confined to one directory tree (the layer's target), for untrusted names:
// every lookup goes through openat2(RESOLVE_IN_ROOT), so `..`, absolute names and symlinks
// (also ones pointing at "/" or "../..") resolve as if the root were "/" — containerd's
// fs.RootPath semantics, enforced by the kernel. Final components are never followed: callers
// hold the parent's fd and work on the base name with *at calls.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::diff::rootfs {

// The lexically cleaned components of an archive name relative to the root, as Go's
// filepath.Clean("/" + name): "" and "." dropped, ".." pops (never above the root).
std::vector<std::string> Clean(std::string_view name);
// The first `n` components joined with "/" ("." when n == 0).
std::string Join(const std::vector<std::string>& components, size_t n);

// openat2(root_fd, rel, flags|O_CLOEXEC, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS); the fd, or
// -errno.
int OpenInRoot(int root_fd, const std::string& rel, int flags);
// A directory inside the root, opened O_RDONLY; errors name `what`.
Result<UniqueFd> OpenDir(int root_fd, const std::string& rel, std::string_view what);

// fstatat without following; false when it does not exist (errors other than ENOENT too).
bool LstatAt(int dir_fd, const std::string& name, struct stat* st);
// Removes `name` under `dir_fd` and, for a directory, everything below it, never following a
// symlink. A missing entry is fine.
Status RemoveAllAt(int dir_fd, const std::string& name);
// "/proc/self/fd/<dir_fd>/<name>": a path for the calls that have no *at form (lsetxattr),
// pinned to the open directory.
std::string FdPath(int dir_fd, const std::string& name);

}  // namespace berth::diff::rootfs
