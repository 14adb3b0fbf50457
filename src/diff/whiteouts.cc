#include "diff/whiteouts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <vector>

#include "common/files.h"
#include "common/unique_fd.h"
#include "diff/root_fs.h"

namespace berth::diff {
namespace {

// Removes what the layer did not create below `dir_fd`, descending into what it did.
Status KeepOnlyUnpacked(int dir_fd, const InodeSet& unpacked) {
  BERTH_ASSIGN_OR_RETURN(auto names, files::ListDirFd(dir_fd, "unpacked layer directory"));
  for (const auto& name : names) {
    struct stat st {};
    if (!rootfs::LstatAt(dir_fd, name, &st)) continue;  // gone meanwhile
    if (!unpacked.contains({st.st_dev, st.st_ino})) {
      BERTH_RETURN_IF_ERROR(rootfs::RemoveAllAt(dir_fd, name));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return ErrnoStatus(fmt::format("open {:?}", name), errno);
      UniqueFd child(fd);
      BERTH_RETURN_IF_ERROR(KeepOnlyUnpacked(fd, unpacked));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyWhiteout(int parent_fd, const std::string& base, uid_t uid, gid_t gid, bool overlay,
                     const InodeSet& unpacked) {
  if (base == kOpaqueWhiteout) {
    if (overlay) {
      if (::fsetxattr(parent_fd, "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return ErrnoStatus("set trusted.overlay.opaque", errno);
      }
      return Status::Ok();
    }
    return KeepOnlyUnpacked(parent_fd, unpacked);
  }
  std::string name = base.substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == "..") {
    return InvalidArgument("invalid whiteout name: {}: invalid archive", base);
  }
  BERTH_RETURN_IF_ERROR(rootfs::RemoveAllAt(parent_fd, name));
  if (!overlay) return Status::Ok();
  if (::mknodat(parent_fd, name.c_str(), S_IFCHR, ::makedev(0, 0)) != 0) {
    return ErrnoStatus(fmt::format("mknod whiteout {:?}", name), errno);
  }
  if (::fchownat(parent_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(fmt::format("chown whiteout {:?}", name), errno);
  }
  return Status::Ok();
}

}  // namespace berth::diff
