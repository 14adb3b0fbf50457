// The overlayfs snapshotter (containerd's snapshots/overlay): snapshot <id> keeps its
// changes in <root>/snapshots/<id>/fs and, when active, overlay's work dir in .../work.
// Mounts: a snapshot without parents is a bind of its fs (rw, or ro for a view); a view of a
// single committed layer is a read-only bind of that layer; otherwise overlay with
// lowerdir=<parents nearest first>, plus upperdir/workdir when active, and index=off when the
// kernel knows the option.
#pragma once

#include <memory>

#include "snapshots/dir_snapshotter.h"

namespace berth::snapshots {

// Thread-safe, as DirSnapshotter (its own state is fixed at Open).
class OverlaySnapshotter final : public DirSnapshotter {
 public:
  static constexpr std::string_view kName = "overlayfs";
  // `root`: this snapshotter's directory, created if needed.
  static Result<std::unique_ptr<OverlaySnapshotter>> Open(metadata::Db& db, const std::filesystem::path& root);

  // <root>/snapshots/<id>/fs and .../work
  std::filesystem::path UpperDir(int64_t id) const { return SnapshotDir(id) / "fs"; }
  std::filesystem::path WorkDir(int64_t id) const { return SnapshotDir(id) / "work"; }

 protected:
  bool HasOwnDir(Kind, bool) const override { return true; }
  Status Populate(const std::filesystem::path& dir, Kind kind, const std::vector<int64_t>& parents) override;
  std::vector<mount::Mount> MountsOf(int64_t id, Kind kind, const std::vector<int64_t>& parents) const override;
  std::filesystem::path UsageDir(int64_t id) const override { return UpperDir(id); }

 private:
  OverlaySnapshotter(metadata::Db& db, std::filesystem::path root, bool index_off);
  bool index_off_;
};

}  // namespace berth::snapshots
