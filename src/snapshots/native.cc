#include "snapshots/native.h"

#include <sys/stat.h>

#include <cerrno>

#include "snapshots/copy_dir.h"

namespace berth::snapshots {

namespace fs = std::filesystem;

Result<std::unique_ptr<NativeSnapshotter>> NativeSnapshotter::Open(metadata::Db& db, const fs::path& root) {
  std::unique_ptr<NativeSnapshotter> s(new NativeSnapshotter(db, root));
  BERTH_RETURN_IF_ERROR(s->DirSnapshotter::Open());
  return s;
}

NativeSnapshotter::NativeSnapshotter(metadata::Db& db, fs::path root)
    : DirSnapshotter(db, std::string(kName), std::move(root)) {}

Status NativeSnapshotter::Populate(const fs::path& dir, Kind /*kind*/, const std::vector<int64_t>& parents) {
  if (::chmod(dir.c_str(), 0755) != 0) return ErrnoStatus(fmt::format("chmod {}", dir.string()), errno);
  if (parents.empty()) return Status::Ok();
  return CopyDir(SnapshotDir(parents.front()), dir).Wrap("copying of parent failed");
}

std::vector<mount::Mount> NativeSnapshotter::MountsOf(int64_t id, Kind kind, const std::vector<int64_t>& parents) const {
  const fs::path source = parents.empty() || kind == Kind::kActive ? SnapshotDir(id) : SnapshotDir(parents.front());
  return {mount::Mount{"bind", source.string(), {"rbind", kind == Kind::kView ? "ro" : "rw"}}};
}

}  // namespace berth::snapshots
