// The process user from a USER string (OCI image spec: user, uid, user:group, uid:gid,
// uid:group, user:gid), resolved as containerd's WithUser / WithAdditionalGIDs do: names (and a
// bare uid's primary group) come from the container's /etc/passwd and /etc/group, read inside
// its root filesystem (symlinks cannot leave it).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "oci/spec.h"

namespace berth::oci {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// /etc/passwd and /etc/group contents; malformed lines are skipped.
std::vector<PasswdEntry> ParsePasswd(std::string_view text);
std::vector<GroupEntry> ParseGroup(std::string_view text);

// A file of the root filesystem `rootfs` (path resolved inside it); nullopt when absent.
Result<std::optional<std::string>> ReadFileInRoot(const std::filesystem::path& rootfs,
                                                  const std::string& path);

// containerd's WithUser: uid and gid for `user`, additional gids reset to [gid]. Without a
// rootfs, "uid" (gid 0) and "uid:gid" work; names are InvalidArgument. With one, a bare uid
// takes its passwd entry's gid (0 when it has none) and a name missing is NotFound.
Result<User> ResolveUser(const std::string& user, const std::optional<std::filesystem::path>& rootfs);

// containerd's WithAdditionalGIDs(user): the gids of the groups (other than the user's own
// name) listing the user (a name, or a uid looked up in passwd) in /etc/group, the primary gid
// `gid` first. Without a rootfs (or the files) just [gid].
Result<std::vector<uint32_t>> AdditionalGids(const std::string& user, uint32_t gid,
                                             const std::optional<std::filesystem::path>& rootfs);

}  // namespace berth::oci
