#include "oci/user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <sstream>

#include "common/files.h"

namespace berth::oci {
namespace {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// A user or group id as WithUser accepts one: a decimal from 0 to INT32_MAX (runc's limit).
std::optional<uint32_t> ParseId(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  if (v < 0 || v > INT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

Result<std::vector<PasswdEntry>> PasswdOf(const std::filesystem::path& rootfs, bool* present) {
  BERTH_ASSIGN_OR_RETURN(auto text, ReadFileInRoot(rootfs, "/etc/passwd"));
  *present = text.has_value();
  return text ? ParsePasswd(*text) : std::vector<PasswdEntry>{};
}

Result<std::vector<GroupEntry>> GroupsOf(const std::filesystem::path& rootfs, bool* present) {
  BERTH_ASSIGN_OR_RETURN(auto text, ReadFileInRoot(rootfs, "/etc/group"));
  *present = text.has_value();
  return text ? ParseGroup(*text) : std::vector<GroupEntry>{};
}

Status NeedsRootfs(const std::string& user) {
  return InvalidArgument(
      "user {:?} names a user or group: resolving it needs the container's root filesystem "
      "(/etc/passwd, /etc/group)",
      user);
}

}  // namespace

std::vector<PasswdEntry> ParsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() < 4) continue;
    auto uid = ParseId(f[2]);
    auto gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(std::string_view text) {
  std::vector<GroupEntry> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() < 3) continue;
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty()) g.members = Split(f[3], ',');
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::optional<std::string>> ReadFileInRoot(const std::filesystem::path& rootfs,
                                                  const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, files::Open(rootfs, O_PATH | O_DIRECTORY));
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // a fifo planted by the image must not block
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (rel.starts_with('/')) rel.erase(0, 1);
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof how)));
  if (!fd) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::optional<std::string>();
    return ErrnoStatus(fmt::format("open {} in {}", path, rootfs.string()), err);
  }
  // The image's /etc/passwd or /etc/group: a regular file of sane size, not a device or fifo
  // (an image's /dev/zero as /etc/passwd would be read until memory runs out).
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(fmt::format("stat {} in {}", path, rootfs.string()), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument("{} in the image is not a regular file", path);
  constexpr size_t kMaxUserFile = 16 << 20;
  BERTH_ASSIGN_OR_RETURN(std::string data,
                         files::ReadFd(fd.get(), fmt::format("{} in {}", path, rootfs.string()), 0, kMaxUserFile));
  return std::optional<std::string>(std::move(data));
}

Result<User> ResolveUser(const std::string& user,
                         const std::optional<std::filesystem::path>& rootfs) {
  auto parts = Split(user, ':');
  User out;
  if (parts.size() == 1) {
    if (auto uid = ParseId(parts[0])) {
      out.uid = *uid;
      if (rootfs) {
        bool present = false;
        BERTH_ASSIGN_OR_RETURN(auto users, PasswdOf(*rootfs, &present));
        auto it = std::find_if(users.begin(), users.end(),
                               [&](const PasswdEntry& e) { return e.uid == *uid; });
        if (it != users.end()) out.gid = it->gid;
      }
    } else {
      if (!rootfs) return NeedsRootfs(user);
      bool present = false;
      BERTH_ASSIGN_OR_RETURN(auto users, PasswdOf(*rootfs, &present));
      auto it = std::find_if(users.begin(), users.end(),
                             [&](const PasswdEntry& e) { return e.name == user; });
      if (it == users.end()) {
        return NotFound("user {:?}: no such user in the container's /etc/passwd", user);
      }
      out.uid = it->uid;
      out.gid = it->gid;
    }
  } else if (parts.size() == 2) {
    auto uid = ParseId(parts[0]);
    auto gid = ParseId(parts[1]);
    if ((!uid || !gid) && !rootfs) return NeedsRootfs(user);
    if (uid) {
      out.uid = *uid;
    } else {
      bool present = false;
      BERTH_ASSIGN_OR_RETURN(auto users, PasswdOf(*rootfs, &present));
      auto it = std::find_if(users.begin(), users.end(),
                             [&](const PasswdEntry& e) { return e.name == parts[0]; });
      if (it == users.end()) {
        return NotFound("user {:?}: no such user in the container's /etc/passwd", parts[0]);
      }
      out.uid = it->uid;
    }
    if (gid) {
      out.gid = *gid;
    } else {
      bool present = false;
      BERTH_ASSIGN_OR_RETURN(auto groups, GroupsOf(*rootfs, &present));
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const GroupEntry& g) { return g.name == parts[1]; });
      if (it == groups.end()) {
        return NotFound("group {:?}: no such group in the container's /etc/group", parts[1]);
      }
      out.gid = it->gid;
    }
  } else {
    return InvalidArgument("invalid USER value {}", user);
  }
  out.additional_gids = {out.gid};
  return out;
}

Result<std::vector<uint32_t>> AdditionalGids(const std::string& user, uint32_t gid,
                                             const std::optional<std::filesystem::path>& rootfs) {
  std::vector<uint32_t> gids;
  auto with_primary = [&] {
    if (std::find(gids.begin(), gids.end(), gid) == gids.end()) gids.insert(gids.begin(), gid);
    return gids;
  };
  if (!rootfs) return with_primary();
  std::string name = user;
  if (auto uid = ParseId(user)) {
    bool present = false;
    BERTH_ASSIGN_OR_RETURN(auto users, PasswdOf(*rootfs, &present));
    auto it = std::find_if(users.begin(), users.end(),
                           [&](const PasswdEntry& e) { return e.uid == *uid; });
    if (it == users.end()) return with_primary();
    name = it->name;
  }
  bool present = false;
  BERTH_ASSIGN_OR_RETURN(auto groups, GroupsOf(*rootfs, &present));
  for (const auto& g : groups) {
    if (g.name == name) continue;  // only supplementary groups
    if (std::find(g.members.begin(), g.members.end(), name) != g.members.end()) {
      gids.push_back(g.gid);
    }
  }
  return with_primary();
}

}  // namespace berth::oci
