#include "diff/apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "common/archive_handle.h"
#include "common/crash_point.h"
#include "common/logging.h"
#include "diff/parent_dirs.h"
#include "diff/root_fs.h"
#include "diff/uncompressed_stream.h"
#include "diff/whiteouts.h"

namespace berth::diff {
namespace {

// containerd's boundTime: times outside [epoch, 2262] become the epoch.
struct timespec Bound(int64_t sec, long nsec) {
  constexpr int64_t kMaxSec = INT64_MAX / 1000000000;
  if (sec < 0 || sec >= kMaxSec) return {0, 0};
  return {static_cast<time_t>(sec), nsec};
}

struct EntryTimes {
  struct timespec atime;
  struct timespec mtime;
};

EntryTimes TimesOf(archive_entry* e) {
  int64_t msec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
  long mnsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
  int64_t asec = msec;
  long ansec = mnsec;
  // containerd: atime = the later of atime and mtime.
  if (archive_entry_atime_is_set(e) &&
      (archive_entry_atime(e) > msec || (archive_entry_atime(e) == msec && archive_entry_atime_nsec(e) > mnsec))) {
    asec = archive_entry_atime(e);
    ansec = archive_entry_atime_nsec(e);
  }
  return {Bound(asec, ansec), Bound(msec, mnsec)};
}

class Applier {
 public:
  Applier(int root, const ApplyOptions& options, ParentDirs parents)
      : root_(root), options_(options), parents_(std::move(parents)) {}

  Status Entry(archive* a, archive_entry* e);
  // Directory times, once everything is in place.
  Status Finish();

 private:
  Status Create(archive* a, archive_entry* e, int parent, const std::string& base, const std::string& name);
  Status WriteFile(archive* a, archive_entry* e, int parent, const std::string& base, const std::string& name);
  Status SetMetadata(archive_entry* e, int parent, const std::string& base, const std::string& name);

  struct DirTime {
    std::vector<std::string> components;
    EntryTimes times;
  };

  int root_;
  const ApplyOptions& options_;
  ParentDirs parents_;
  InodeSet unpacked_;
  std::vector<DirTime> dirs_;
};

Status Applier::Entry(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) return InvalidArgument("archive entry without a name");
  const std::string name = raw;
  std::vector<std::string> comps = rootfs::Clean(name);
  if (comps.empty()) return Status::Ok();  // the root itself: ignored, as containerd does
  const std::string base = comps.back();

  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, parents_.Ensure(root_, comps, comps.size() - 1));

  if (IsWhiteout(base)) {
    Status st = ApplyWhiteout(parent.get(), base, static_cast<uid_t>(archive_entry_uid(e)),
                              static_cast<gid_t>(archive_entry_gid(e)), options_.overlay_whiteouts, unpacked_);
    if (!st.ok()) return st.Wrap(fmt::format("failed to convert whiteout file {:?}", name));
    return Status::Ok();
  }

  const bool is_dir = archive_entry_hardlink(e) == nullptr && archive_entry_filetype(e) == AE_IFDIR;
  struct stat st {};
  if (rootfs::LstatAt(parent.get(), base, &st) && !(S_ISDIR(st.st_mode) && is_dir)) {
    BERTH_RETURN_IF_ERROR(rootfs::RemoveAllAt(parent.get(), base));
  }
  BERTH_RETURN_IF_ERROR(Create(a, e, parent.get(), base, name));
  BERTH_RETURN_IF_ERROR(SetMetadata(e, parent.get(), base, name));
  if (is_dir) dirs_.push_back({comps, TimesOf(e)});
  if (rootfs::LstatAt(parent.get(), base, &st)) unpacked_.insert({st.st_dev, st.st_ino});
  return Status::Ok();
}

Status Applier::Create(archive* a, archive_entry* e, int parent, const std::string& base, const std::string& name) {
  if (const char* link = archive_entry_hardlink(e)) {
    std::vector<std::string> target = rootfs::Clean(link);
    if (target.empty()) return InvalidArgument("hard link {:?} to the root {:?}: invalid archive", name, link);
    // The target's parents resolve inside the root; its last component is not followed.
    BERTH_ASSIGN_OR_RETURN(UniqueFd tparent,
                           rootfs::OpenDir(root_, rootfs::Join(target, target.size() - 1),
                                           fmt::format("hard link target {:?}", link)));
    if (::linkat(tparent.get(), target.back().c_str(), parent, base.c_str(), 0) != 0) {
      return ErrnoStatus(fmt::format("link {:?} to {:?}", name, link), errno);
    }
    return Status::Ok();
  }
  const mode_t perm = archive_entry_perm(e) & 07777;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR: {
      struct stat st {};
      if (rootfs::LstatAt(parent, base, &st) && S_ISDIR(st.st_mode)) return Status::Ok();  // merge
      if (::mkdirat(parent, base.c_str(), perm) != 0) return ErrnoStatus(fmt::format("mkdir {:?}", name), errno);
      return Status::Ok();
    }
    case AE_IFREG:
      return WriteFile(a, e, parent, base, name);
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr) return InvalidArgument("symlink {:?} without a target: invalid archive", name);
      if (::symlinkat(target, parent, base.c_str()) != 0) {
        return ErrnoStatus(fmt::format("symlink {:?}", name), errno);
      }
      return Status::Ok();
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      mode_t type = archive_entry_filetype(e) == AE_IFCHR   ? S_IFCHR
                    : archive_entry_filetype(e) == AE_IFBLK ? S_IFBLK
                                                            : S_IFIFO;
      dev_t dev = type == S_IFIFO ? 0 : ::makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
      if (::mknodat(parent, base.c_str(), type | perm, dev) != 0) {
        return ErrnoStatus(fmt::format("mknod {:?}", name), errno);
      }
      return Status::Ok();
    }
    default:
      return InvalidArgument("unhandled tar header type {:#o} for {:?}", archive_entry_filetype(e), name);
  }
}

Status Applier::WriteFile(archive* a, archive_entry* e, int parent, const std::string& base, const std::string& name) {
  int fd = ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(fmt::format("create {:?}", name), errno);
  UniqueFd file(fd);
  int64_t end = 0;
  for (;;) {
    const void* data = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(a, &data, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return InvalidArgument("read {:?} from archive: {}", name, ArchiveError(a));
    }
    const char* p = static_cast<const char*>(data);
    while (size > 0) {  // (sparse files come as blocks at offsets)
      ssize_t n = ::pwrite(fd, p, size, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(fmt::format("write {:?}", name), errno);
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
    end = std::max<int64_t>(end, offset);
  }
  // The entry's size (a sparse file's holes at the end included).
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > end && ::ftruncate(fd, archive_entry_size(e)) != 0) {
    return ErrnoStatus(fmt::format("truncate {:?}", name), errno);
  }
  return Status::Ok();
}

Status Applier::SetMetadata(archive_entry* e, int parent, const std::string& base, const std::string& name) {
  const auto uid = static_cast<uid_t>(archive_entry_uid(e));
  const auto gid = static_cast<gid_t>(archive_entry_gid(e));
  if (::fchownat(parent, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(fmt::format("failed to Lchown {:?} for UID {}, GID {}", name, uid, gid), errno);
  }
  struct stat st {};
  if (!rootfs::LstatAt(parent, base, &st)) return ErrnoStatus(fmt::format("stat {:?}", name), errno);

  archive_entry_xattr_reset(e);
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  const std::string path = rootfs::FdPath(parent, base);
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    std::string_view k = key;
    if (k.starts_with("trusted.")) {
      log::Warn("ignored xattr in archive", {{"xattr", k}, {"path", name}});  // containerd: admin attributes refused
      continue;
    }
    if (::lsetxattr(path.c_str(), key, value, size, 0) != 0) {
      int err = errno;
      if (err == ENOTSUP || (err == EPERM && k.starts_with("user.") && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        log::Warn("ignored xattr in archive", {{"xattr", k}, {"path", name}});
        continue;
      }
      return ErrnoStatus(fmt::format("failed to setxattr {:?} for key {:?}", name, k), err);
    }
  }

  // After the chown, which clears setuid/setgid. Symlinks have no mode of their own.
  if (!S_ISLNK(st.st_mode)) {
    if (::fchmodat(parent, base.c_str(), archive_entry_perm(e) & 07777, 0) != 0) {
      return ErrnoStatus(fmt::format("chmod {:?}", name), errno);
    }
  }
  EntryTimes t = TimesOf(e);
  struct timespec times[2] = {t.atime, t.mtime};
  if (::utimensat(parent, base.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(fmt::format("chtimes {:?}", name), errno);
  }
  return Status::Ok();
}

Status Applier::Finish() {
  for (const auto& d : dirs_) {
    int fd = rootfs::OpenInRoot(root_, rootfs::Join(d.components, d.components.size() - 1), O_RDONLY | O_DIRECTORY);
    if (fd == -ENOENT) continue;  // removed by a later entry
    if (fd < 0) return ErrnoStatus(fmt::format("chtimes {:?}", rootfs::Join(d.components, d.components.size())), -fd);
    UniqueFd parent(fd);
    struct timespec times[2] = {d.times.atime, d.times.mtime};
    if (::utimensat(fd, d.components.back().c_str(), times, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT) {
      return ErrnoStatus(fmt::format("chtimes {:?}", rootfs::Join(d.components, d.components.size())), errno);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<AppliedLayer> ApplyLayer(const content::ReaderAt& blob, const std::filesystem::path& target,
                                const ApplyOptions& options) {
  int root = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return ErrnoStatus(fmt::format("open apply target {}", target.string()), errno);
  UniqueFd root_fd(root);
  BERTH_ASSIGN_OR_RETURN(auto parents, ParentDirs::Open(options.parents));
  BERTH_ASSIGN_OR_RETURN(auto stream, UncompressedStream::Open(blob, options.what));

  ReadArchive tar(archive_read_new());
  if (!tar) return Internal("apply {}: out of memory", options.what);
  if (archive_read_support_format_tar(tar.get()) != ARCHIVE_OK ||
      archive_read_support_format_empty(tar.get()) != ARCHIVE_OK ||
      archive_read_open(tar.get(), stream.get(), nullptr, &UncompressedStream::ReadCallback, nullptr) != ARCHIVE_OK) {
    if (!stream->error().ok()) return stream->error();
    return InvalidArgument("apply {}: {}", options.what, ArchiveError(tar.get()));
  }

  Applier applier(root, options, std::move(parents));
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(tar.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_RETRY) continue;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      if (!stream->error().ok()) return stream->error();
      return InvalidArgument("apply {}: {}", options.what, ArchiveError(tar.get()));
    }
    Status st = applier.Entry(tar.get(), e);
    CrashPoint("diff.apply.entry");
    if (!st.ok()) {
      if (!stream->error().ok()) return stream->error();
      return st.Wrap(fmt::format("apply {}", options.what));
    }
  }
  BERTH_RETURN_IF_ERROR(applier.Finish());
  BERTH_RETURN_IF_ERROR(stream->Drain());
  AppliedLayer out;
  out.size = stream->size();
  out.diff_id = stream->Finish();
  return out;
}

}  // namespace berth::diff
