// The native snapshotter (containerd's snapshots/native): snapshot <id> is a full copy of its
// parent in <root>/snapshots/<id> (owners, modes, times, xattrs, devices, links preserved),
// mounted as a bind (rbind, rw or ro). A view of a parent has no copy: it binds the parent
// read-only.
#pragma once

#include <memory>

#include "snapshots/dir_snapshotter.h"

namespace berth::snapshots {

// Thread-safe, as DirSnapshotter (no state of its own).
class NativeSnapshotter final : public DirSnapshotter {
 public:
  static constexpr std::string_view kName = "native";
  static Result<std::unique_ptr<NativeSnapshotter>> Open(metadata::Db& db, const std::filesystem::path& root);

 protected:
  bool HasOwnDir(Kind kind, bool has_parent) const override { return kind == Kind::kActive || !has_parent; }
  Status Populate(const std::filesystem::path& dir, Kind kind, const std::vector<int64_t>& parents) override;
  std::vector<mount::Mount> MountsOf(int64_t id, Kind kind, const std::vector<int64_t>& parents) const override;
  std::filesystem::path UsageDir(int64_t id) const override { return SnapshotDir(id); }

 private:
  NativeSnapshotter(metadata::Db& db, std::filesystem::path root);
};

}  // namespace berth::snapshots
