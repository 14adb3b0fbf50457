#include "snapshots/copy_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/files.h"
#include "common/unique_fd.h"

namespace berth::snapshots {
namespace {

namespace fs = std::filesystem;

Status Errno(std::string_view what, const fs::path& p, int err) {
  return ErrnoStatus(fmt::format("{} {}", what, p.string()), err);
}

Status CopyXattrs(const fs::path& src, const fs::path& dst) {
  ssize_t n = ::llistxattr(src.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return Status::Ok();
    return Errno("list xattrs of", src, errno);
  }
  if (n == 0) return Status::Ok();
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(src.c_str(), names.data(), names.size());
  if (n < 0) return Errno("list xattrs of", src, errno);
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (name.empty()) continue;
    ssize_t vn = ::lgetxattr(src.c_str(), name.c_str(), nullptr, 0);
    if (vn < 0) return Errno(fmt::format("get xattr {} of", name), src, errno);
    std::string value(static_cast<size_t>(vn), '\0');
    vn = ::lgetxattr(src.c_str(), name.c_str(), value.data(), value.size());
    if (vn < 0) return Errno(fmt::format("get xattr {} of", name), src, errno);
    value.resize(static_cast<size_t>(vn));
    if (::lsetxattr(dst.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
      // security.* and the like cannot always be copied (moby/buildkit#1189): skipped.
      log::Debug("xattr not copied", {{"path", dst.string()}, {"xattr", name}, {"errno", errno}});
    }
  }
  return Status::Ok();
}

// Owner, mode and times of `st` onto `dst` (in that order: chown clears set-id bits).
Status CopyMetadata(const struct stat& st, const fs::path& dst) {
  if (::lchown(dst.c_str(), st.st_uid, st.st_gid) != 0) return Errno("chown", dst, errno);
  if (!S_ISLNK(st.st_mode) && ::chmod(dst.c_str(), st.st_mode & 07777) != 0) return Errno("chmod", dst, errno);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return Errno("set times of", dst, errno);
  return Status::Ok();
}

Status CopyFileData(const fs::path& src, const fs::path& dst, const struct stat& st) {
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) return Errno("open", src, errno);
  UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return Errno("create", dst, errno);
  off_t remaining = st.st_size;
  bool fallback = false;
  while (remaining > 0 && !fallback) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(remaining), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) {
        fallback = true;
        break;
      }
      return Errno("copy to", dst, errno);
    }
    if (n == 0) break;  // the file shrank
    remaining -= n;
  }
  if (fallback) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("read", src, errno);
      }
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
        if (w < 0) {
          if (errno == EINTR) continue;
          return Errno("write", dst, errno);
        }
        off += w;
      }
    }
  }
  if (out.Close() != 0) return Errno("close", dst, errno);
  return Status::Ok();
}

class Copier {
 public:
  Status CopyTree(const fs::path& src, const fs::path& dst) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, files::ListDir(src));
    for (const auto& name : names) BERTH_RETURN_IF_ERROR(CopyEntry(src / name, dst / name));
    return Status::Ok();
  }

  Status CopyEntry(const fs::path& src, const fs::path& dst) {
    struct stat st{};
    if (::lstat(src.c_str(), &st) != 0) return Errno("stat", src, errno);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = links_.try_emplace({st.st_dev, st.st_ino}, dst);
      if (!inserted) {
        if (::link(it->second.c_str(), dst.c_str()) != 0) return Errno("link", dst, errno);
        return Status::Ok();
      }
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(dst.c_str(), 0700) != 0) return Errno("mkdir", dst, errno);
      BERTH_RETURN_IF_ERROR(CopyTree(src, dst));
    } else if (S_ISREG(st.st_mode)) {
      BERTH_RETURN_IF_ERROR(CopyFileData(src, dst, st));
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
      if (n < 0) return Errno("readlink", src, errno);
      target.resize(static_cast<size_t>(n));
      if (::symlink(target.c_str(), dst.c_str()) != 0) return Errno("symlink", dst, errno);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
      if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0) return Errno("mknod", dst, errno);
    } else {
      return InvalidArgument("copy {}: unsupported file type {:o}", src.string(), st.st_mode & S_IFMT);
    }
    BERTH_RETURN_IF_ERROR(CopyXattrs(src, dst));
    return CopyMetadata(st, dst);  // directories last: after their children changed mtime
  }

 private:
  std::map<std::pair<dev_t, ino_t>, fs::path> links_;
};

}  // namespace

Status CopyDir(const fs::path& src, const fs::path& dst) {
  struct stat st{};
  if (::lstat(src.c_str(), &st) != 0) return Errno("stat", src, errno);
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("copy {}: not a directory", src.string());
  Copier c;
  BERTH_RETURN_IF_ERROR(c.CopyTree(src, dst));
  BERTH_RETURN_IF_ERROR(CopyXattrs(src, dst));
  return CopyMetadata(st, dst);
}

}  // namespace berth::snapshots
