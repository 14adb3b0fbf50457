// The snapshot tree and mount commands `berth snapshots` prints (cmd/berth/snapshot_format.h).
#include "berth/snapshot_format.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(SnapshotFormatTree, EmptyIsNothing) { EXPECT_EQ(RenderSnapshotTree({}), ""); }

TEST(SnapshotFormatTree, DrawsChildrenUnderParentsSortedByName) {
  // Given out of order, children before parents.
  std::vector<TreeNode> nodes = {
      {"rw", "app", "active"},       {"base-view", "base", "view"}, {"app", "base", "committed"},
      {"base", "", "committed"},     {"other", "", "active"},       {"app2", "base", "committed"},
  };
  EXPECT_EQ(RenderSnapshotTree(nodes),
            "base (committed)\n"
            "├── app (committed)\n"
            "│   └── rw (active)\n"
            "├── app2 (committed)\n"
            "└── base-view (view)\n"
            "other (active)\n");
}

TEST(SnapshotFormatTree, DeepChainsIndentUnderTheLastChild) {
  std::vector<TreeNode> nodes = {
      {"a", "", ""}, {"b", "a", ""}, {"c", "b", ""}, {"d", "a", ""}, {"e", "c", ""}};
  EXPECT_EQ(RenderSnapshotTree(nodes),
            "a\n"
            "├── b\n"
            "│   └── c\n"
            "│       └── e\n"
            "└── d\n");
}

TEST(SnapshotFormatTree, AParentNotListedIsAMissingRoot) {
  // E.g. a filter kept the children but not their parent.
  std::vector<TreeNode> nodes = {{"k1", "gone", "active"}, {"k2", "gone", "view"}};
  EXPECT_EQ(RenderSnapshotTree(nodes),
            "gone (missing)\n"
            "├── k1 (active)\n"
            "└── k2 (view)\n");
}

TEST(SnapshotFormatTree, ACycleIsPrintedOnceAndDoesNotLoop) {
  std::vector<TreeNode> nodes = {{"x", "y", ""}, {"y", "x", ""}};
  EXPECT_EQ(RenderSnapshotTree(nodes), "x\n└── y\n");
}

TEST(SnapshotFormatMountCommand, AsCtrPrintsIt) {
  mount::Mount m{"overlay", "overlay", {"workdir=/w", "upperdir=/u", "lowerdir=/l"}};
  EXPECT_EQ(MountCommand(m, "/mnt"),
            "mount -t overlay overlay /mnt -o workdir=/w,upperdir=/u,lowerdir=/l");
  EXPECT_EQ(MountCommand({"bind", "/src", {}}, "/t"), "mount -t bind /src /t");
}

}  // namespace
}  // namespace berth::cli
