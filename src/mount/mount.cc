#include "mount/mount.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace berth::mount {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

// containerd's parseMountOptions table.
constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},   {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},          {"defaults", false, 0},
    {"dev", true, MS_NODEV},           {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},      {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},        {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},      {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},      {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},  {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
    // Propagation.
    {"private", false, MS_PRIVATE},    {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},      {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},        {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

struct ParsedOptions {
  unsigned long flags = 0;
  std::string data;
};

ParsedOptions Parse(const std::vector<std::string>& options) {
  ParsedOptions out;
  std::vector<std::string_view> data;
  for (const auto& o : options) {
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (o != f.name) continue;
      known = true;
      if (f.clear) {
        out.flags &= ~f.flag;
      } else {
        out.flags |= f.flag;
      }
      break;
    }
    if (!known) data.push_back(o);
  }
  out.data = fmt::format("{}", fmt::join(data, ","));
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = s[i + j];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Result<std::vector<std::filesystem::path>> MountPoints() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return ErrnoStatus("open /proc/self/mountinfo", errno);
  std::vector<std::filesystem::path> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (fields >> id >> parent >> devno >> root >> mount_point) out.emplace_back(Unescape(mount_point));
  }
  return out;
}

}  // namespace

Status MountAt(const Mount& m, const std::filesystem::path& target) {
  ParsedOptions p = Parse(m.options);
  if (p.data.size() >= static_cast<size_t>(::getpagesize())) {
    return InvalidArgument("mount {} on {}: options are too long ({} bytes)", m.type, target.string(),
                           p.data.size());
  }
  constexpr unsigned long kPropagation = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
  const unsigned long oflags = p.flags & ~kPropagation;
  if ((p.flags & MS_REMOUNT) == 0 || !p.data.empty()) {
    if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), oflags,
                p.data.empty() ? nullptr : p.data.c_str()) != 0) {
      const int err = errno;
      return ErrnoStatus(fmt::format("mount {} {} on {} ({})", m.type, m.source, target.string(),
                                     fmt::join(m.options, ",")), err);
    }
  }
  if (p.flags & kPropagation) {
    unsigned long pflags = p.flags & (kPropagation | MS_REC | MS_SILENT);
    if (::mount("", target.c_str(), nullptr, pflags, nullptr) != 0) {
      const int err = errno;
      return ErrnoStatus(fmt::format("set propagation of {}", target.string()), err);
    }
  }
  if ((oflags & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY)) {
    if (::mount("", target.c_str(), nullptr, oflags | MS_REMOUNT, nullptr) != 0) {
      int err = errno;
      ::umount2(target.c_str(), MNT_DETACH);
      return ErrnoStatus(fmt::format("remount {} read-only", target.string()), err);
    }
  }
  return Status::Ok();
}

Status MountAll(const std::vector<Mount>& mounts, const std::filesystem::path& target) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    Status st = MountAt(mounts[i], target);
    if (!st.ok()) {
      if (i > 0) {
        Status un = UnmountAll(target);
        (void)un;
      }
      return st;
    }
  }
  return Status::Ok();
}

Status UnmountAll(const std::filesystem::path& target) {
  using namespace std::chrono_literals;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) continue;  // maybe more stacked
    int err = errno;
    if (err == EINVAL || err == ENOENT) return Status::Ok();  // no longer a mount point
    if (err == EBUSY && attempt < 50) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    if (err == EBUSY) {
      if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
      err = errno;
      if (err == EINVAL) return Status::Ok();
    }
    return ErrnoStatus(fmt::format("unmount {}", target.string()), err);
  }
  return Unavailable("unmount {}: still mounted after many attempts", target.string());
}

Result<bool> IsMountPoint(const std::filesystem::path& path) {
  BERTH_ASSIGN_OR_RETURN(auto points, MountPoints());
  for (const auto& p : points) {
    if (p == path) return true;
  }
  return false;
}

Result<std::vector<std::filesystem::path>> MountsUnder(const std::filesystem::path& dir) {
  BERTH_ASSIGN_OR_RETURN(auto points, MountPoints());
  std::vector<std::filesystem::path> out;
  std::string prefix = dir.string();
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  for (auto& p : points) {
    const std::string s = p.string();
    if (s == prefix || (s.starts_with(prefix) && s.size() > prefix.size() && s[prefix.size()] == '/')) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace berth::mount
