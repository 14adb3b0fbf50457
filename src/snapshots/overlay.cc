#include "snapshots/overlay.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace berth::snapshots {

namespace fs = std::filesystem;

Result<std::unique_ptr<OverlaySnapshotter>> OverlaySnapshotter::Open(metadata::Db& db, const fs::path& root) {
  // containerd sets index=off whenever the kernel has the parameter.
  std::error_code ec;
  bool index_off = fs::exists("/sys/module/overlay/parameters/index", ec);
  std::unique_ptr<OverlaySnapshotter> s(new OverlaySnapshotter(db, root, index_off));
  BERTH_RETURN_IF_ERROR(s->DirSnapshotter::Open());
  return s;
}

OverlaySnapshotter::OverlaySnapshotter(metadata::Db& db, fs::path root, bool index_off)
    : DirSnapshotter(db, std::string(kName), std::move(root)), index_off_(index_off) {}

Status OverlaySnapshotter::Populate(const fs::path& dir, Kind kind, const std::vector<int64_t>& parents) {
  const fs::path upper = dir / "fs";
  if (::mkdir(upper.c_str(), 0755) != 0) return ErrnoStatus(fmt::format("create {}", upper.string()), errno);
  if (::chmod(upper.c_str(), 0755) != 0) return ErrnoStatus(fmt::format("chmod {}", upper.string()), errno);
  if (kind == Kind::kActive) {
    const fs::path work = dir / "work";
    if (::mkdir(work.c_str(), 0711) != 0) return ErrnoStatus(fmt::format("create {}", work.string()), errno);
  }
  if (!parents.empty()) {
    // The new layer's root is owned as its parent's is (what a container sees as "/").
    struct stat st{};
    const fs::path parent_upper = UpperDir(parents.front());
    if (::stat(parent_upper.c_str(), &st) != 0) {
      return ErrnoStatus(fmt::format("failed to stat parent {}", parent_upper.string()), errno);
    }
    if (::lchown(upper.c_str(), st.st_uid, st.st_gid) != 0) {
      return ErrnoStatus(fmt::format("failed to chown {}", upper.string()), errno);
    }
  }
  return Status::Ok();
}

std::vector<mount::Mount> OverlaySnapshotter::MountsOf(int64_t id, Kind kind, const std::vector<int64_t>& parents) const {
  if (parents.empty()) {
    return {mount::Mount{"bind", UpperDir(id).string(), {kind == Kind::kView ? "ro" : "rw", "rbind"}}};
  }
  std::vector<std::string> options;
  if (index_off_) options.emplace_back("index=off");
  if (kind == Kind::kActive) {
    options.push_back("workdir=" + WorkDir(id).string());
    options.push_back("upperdir=" + UpperDir(id).string());
  } else if (parents.size() == 1) {
    return {mount::Mount{"bind", UpperDir(parents.front()).string(), {"ro", "rbind"}}};
  }
  std::vector<std::string> lower;
  lower.reserve(parents.size());
  for (int64_t p : parents) lower.push_back(UpperDir(p).string());
  options.push_back(fmt::format("lowerdir={}", fmt::join(lower, ":")));
  return {mount::Mount{"overlay", "overlay", std::move(options)}};
}

}  // namespace berth::snapshots
