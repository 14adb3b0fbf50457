#include "diff/parent_dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diff/root_fs.h"

namespace berth::diff {
namespace {

// Non-trusted xattrs of `from` onto the entry `path` (an FdPath).
Status CopyXattrs(int from, const std::string& path) {
  ssize_t n = ::flistxattr(from, nullptr, 0);
  if (n <= 0) return Status::Ok();  // none, or not supported: nothing to copy
  std::string names(static_cast<size_t>(n), '\0');
  n = ::flistxattr(from, names.data(), names.size());
  if (n < 0) return Status::Ok();
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string name = names.c_str() + pos;
    pos += name.size() + 1;
    if (name.empty() || name.starts_with("trusted.")) continue;
    ssize_t vn = ::fgetxattr(from, name.c_str(), nullptr, 0);
    if (vn < 0) continue;
    std::string value(static_cast<size_t>(vn), '\0');
    vn = ::fgetxattr(from, name.c_str(), value.data(), value.size());
    if (vn < 0) continue;
    if (::lsetxattr(path.c_str(), name.c_str(), value.data(), static_cast<size_t>(vn), 0) != 0 &&
        errno != ENOTSUP) {
      return ErrnoStatus(fmt::format("copy xattr {} to {}", name, path), errno);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ParentDirs> ParentDirs::Open(const std::vector<std::filesystem::path>& lowers) {
  ParentDirs out;
  for (const auto& p : lowers) {
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(fmt::format("open lowerdir {}", p.string()), errno);
    }
    out.lowers_.emplace_back(fd);
  }
  return out;
}

Status ParentDirs::CopyFromLower(int dir_fd, const std::string& name, const std::string& rel) const {
  for (const auto& lower : lowers_) {
    int fd = rootfs::OpenInRoot(lower.get(), rel, O_RDONLY | O_NOFOLLOW);
    if (fd == -ENOENT || fd == -ENOTDIR) continue;
    if (fd == -ELOOP) return Status::Ok();  // a symlink there: replaced, nothing to copy
    if (fd < 0) return ErrnoStatus(fmt::format("open {:?} in lowerdir", rel), -fd);
    UniqueFd from(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return ErrnoStatus(fmt::format("stat {:?} in lowerdir", rel), errno);
    if (!S_ISDIR(st.st_mode)) return Status::Ok();  // replaced by a non-directory: do not copy
    if (::fchownat(dir_fd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(fmt::format("chown {:?}", rel), errno);
    }
    if (::fchmodat(dir_fd, name.c_str(), st.st_mode & 07777, 0) != 0) {
      return ErrnoStatus(fmt::format("chmod {:?}", rel), errno);
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(fmt::format("utime {:?}", rel), errno);
    }
    return CopyXattrs(fd, rootfs::FdPath(dir_fd, name));
  }
  return Status::Ok();
}

Result<UniqueFd> ParentDirs::Ensure(int root_fd, const std::vector<std::string>& components, size_t n) const {
  std::string rel = rootfs::Join(components, n);
  int fd = rootfs::OpenInRoot(root_fd, rel, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) return UniqueFd(fd);
  if (fd != -ENOENT) return ErrnoStatus(fmt::format("mkparent {:?}", rel), -fd);

  // Walk down from the root, creating what is missing.
  int dup = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoStatus("dup root", errno);
  UniqueFd cur(dup);
  for (size_t i = 0; i < n; ++i) {
    std::string prefix = rootfs::Join(components, i + 1);
    fd = rootfs::OpenInRoot(root_fd, prefix, O_RDONLY | O_DIRECTORY);
    if (fd == -ENOENT) {
      const std::string& name = components[i];
      if (::mkdirat(cur.get(), name.c_str(), 0755) != 0) {
        // EEXIST: a dangling symlink (its target would be outside any created path).
        return ErrnoStatus(fmt::format("mkparent {:?}", prefix), errno);
      }
      if (::fchmodat(cur.get(), name.c_str(), 0755, 0) != 0) {
        return ErrnoStatus(fmt::format("chmod {:?}", prefix), errno);
      }
      BERTH_RETURN_IF_ERROR(CopyFromLower(cur.get(), name, prefix));
      fd = rootfs::OpenInRoot(root_fd, prefix, O_RDONLY | O_DIRECTORY);
    }
    if (fd < 0) return ErrnoStatus(fmt::format("mkparent {:?}", prefix), -fd);
    cur = UniqueFd(fd);
  }
  return cur;
}

}  // namespace berth::diff
