#include "mount/scoped_mount.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/logging.h"

namespace berth::mount {

Result<ScopedMount> ScopedMount::Create(const std::vector<Mount>& mounts,
                                        const std::filesystem::path& parent) {
  if (mounts.empty()) return InvalidArgument("no mounts to mount");
  std::string tmpl = (parent / "berth-mount-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return ErrnoStatus(fmt::format("create mount point under {}", parent.string()), errno);
  }
  ScopedMount out{std::filesystem::path(tmpl)};
  Status st = MountAll(mounts, out.path_);
  if (!st.ok()) return st;  // `out` removes the directory
  return out;
}

ScopedMount::ScopedMount(ScopedMount&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }

ScopedMount& ScopedMount::operator=(ScopedMount&& o) noexcept {
  if (this != &o) {
    Status st = Release();
    if (!st.ok()) log::Warn("release temporary mount", {{"path", path_.string()}, {"error", st.ToString()}});
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

ScopedMount::~ScopedMount() {
  Status st = Release();
  if (!st.ok()) log::Warn("release temporary mount", {{"path", path_.string()}, {"error", st.ToString()}});
}

Status ScopedMount::Release() {
  if (path_.empty()) return Status::Ok();
  BERTH_RETURN_IF_ERROR(UnmountAll(path_));
  // Only an empty directory is removed: never what a failed unmount would have exposed.
  if (::rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(fmt::format("remove mount point {}", path_.string()), errno);
  }
  path_.clear();
  return Status::Ok();
}

}  // namespace berth::mount
