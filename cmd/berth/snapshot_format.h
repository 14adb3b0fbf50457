// How `berth snapshots` prints what is not a table: the tree of parents and children, and
// mounts as the mount(8) commands that would apply them.
#pragma once

#include <string>
#include <vector>

#include "mount/mount.h"

namespace berth::cli {

struct TreeNode {
  std::string name;
  std::string parent;  // "" for none
  std::string note;    // shown after the name in parentheses ("committed"); "" for nothing
};

// The snapshots as a forest drawn like tree(1): every node under its parent, siblings by name,
// roots by name. A parent that is not among `nodes` is drawn as a root noted "missing" so
// that its children still show.
//
//   base (committed)
//   ├── app (committed)
//   │   └── app-rw (active)
//   └── base-view (view)
std::string RenderSnapshotTree(const std::vector<TreeNode>& nodes);

// `mount -t TYPE SOURCE TARGET [-o OPTIONS]` (ctr's printMounts; no -o without options).
std::string MountCommand(const mount::Mount& m, const std::string& target);

}  // namespace berth::cli
