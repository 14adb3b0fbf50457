// OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`) applied to a directory: deleting (plain
// directory, the native snapshotter) or converted to overlayfs's form (an upperdir).
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace berth::diff {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

// Inodes the layer being applied has created so far: an opaque marker keeps them.
using InodeSet = std::set<std::pair<dev_t, ino_t>>;

inline bool IsWhiteout(std::string_view base) { return base.starts_with(kWhiteoutPrefix); }

// Applies the whiteout `base` found in the directory `parent_fd`:
// - opaque: overlay sets trusted.overlay.opaque=y on the directory; plain removes every entry
//   below it that is not in `unpacked`;
// - `.wh.<name>`: overlay makes <name> a 0/0 character device owned by uid:gid; plain removes
//   <name> (whatever it is, recursively; a missing one is fine).
// InvalidArgument "invalid whiteout name: <base>: invalid archive" when <name> is not a child
// ("", "." or "..").
Status ApplyWhiteout(int parent_fd, const std::string& base, uid_t uid, gid_t gid, bool overlay,
                     const InodeSet& unpacked);

}  // namespace berth::diff
