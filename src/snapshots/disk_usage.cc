#include "snapshots/disk_usage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <utility>

#include "common/files.h"
#include "common/unique_fd.h"

namespace berth::snapshots {
namespace {

struct Walker {
  std::set<std::pair<dev_t, ino_t>> seen;
  DiskUsage usage;

  void Count(const struct stat& st) {
    if (seen.emplace(st.st_dev, st.st_ino).second) usage.size += static_cast<int64_t>(st.st_blocks) * 512;
  }

  // `dirfd` is an open directory; counts its entries, recursing into subdirectories.
  Status Walk(int dirfd, const std::filesystem::path& where) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, files::ListDirFd(dirfd, where));
    for (const auto& name : names) {
      struct stat st{};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus(fmt::format("stat {}", (where / name).string()), errno);
      }
      Count(st);
      if (S_ISDIR(st.st_mode)) {
        UniqueFd child(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (child.get() < 0) return ErrnoStatus(fmt::format("open {}", (where / name).string()), errno);
        BERTH_RETURN_IF_ERROR(Walk(child.get(), where / name));
      }
    }
    return Status::Ok();
  }
};

}  // namespace

Result<DiskUsage> MeasureDiskUsage(const std::filesystem::path& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(fmt::format("open {}", root.string()), errno);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(fmt::format("stat {}", root.string()), errno);
  Walker w;
  w.Count(st);
  BERTH_RETURN_IF_ERROR(w.Walk(fd.get(), root));
  w.usage.inodes = static_cast<int64_t>(w.seen.size());
  return w.usage;
}

}  // namespace berth::snapshots
