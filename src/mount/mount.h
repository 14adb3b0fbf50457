// Mounts as containerd describes them (containerd.types.Mount: type, source, options) and
// how to apply them on Linux, with containerd's option parsing (mount/mount_linux.go): flag
// options ("ro", "rbind", "nosuid", ...) become mount(2) flags, the rest is the data string;
// a read-only bind is a bind followed by a read-only remount.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::mount {

struct Mount {
  std::string type;     // "bind", "overlay", ...
  std::string source;   // a path, or e.g. "overlay"
  std::vector<std::string> options;

  bool operator==(const Mount&) const = default;
};

// Mounts `m` on `target` (an existing directory). The message names the target and type.
Status MountAt(const Mount& m, const std::filesystem::path& target);

// Mounts each of `mounts` on `target` in order (containerd's mount.All); on failure the ones
// already mounted are unmounted again.
Status MountAll(const std::vector<Mount>& mounts, const std::filesystem::path& target);

// Unmounts everything stacked on `target` (containerd's UnmountAll): repeats umount2 until
// the target is no longer a mount point; retries EBUSY for a while, then detaches lazily.
// Not mounted at all is fine.
Status UnmountAll(const std::filesystem::path& target);

// Whether `path` is a mount point according to /proc/self/mountinfo.
Result<bool> IsMountPoint(const std::filesystem::path& path);

// The mount points listed in /proc/self/mountinfo at or below `dir`.
Result<std::vector<std::filesystem::path>> MountsUnder(const std::filesystem::path& dir);

}  // namespace berth::mount
