#include "diff/root_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"

namespace berth::diff::rootfs {

std::vector<std::string> Clean(std::string_view name) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = name.find('/', pos);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(pos, end - pos);
    if (part == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    pos = end + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& components, size_t n) {
  if (n == 0) return ".";
  std::string out;
  for (size_t i = 0; i < n && i < components.size(); ++i) {
    if (i > 0) out += '/';
    out += components[i];
  }
  return out;
}

int OpenInRoot(int root_fd, const std::string& rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EINTR && errno != EAGAIN) return -errno;
  }
}

Result<UniqueFd> OpenDir(int root_fd, const std::string& rel, std::string_view what) {
  int fd = OpenInRoot(root_fd, rel, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ErrnoStatus(fmt::format("open {}", what), -fd);
  return UniqueFd(fd);
}

bool LstatAt(int dir_fd, const std::string& name, struct stat* st) {
  return ::fstatat(dir_fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0;
}

namespace {

Status RemoveChildren(int fd, const std::string& what) {
  auto names = files::ListDirFd(fd, what);
  if (!names.ok()) return names.status().Wrap("remove");
  for (const auto& n : *names) BERTH_RETURN_IF_ERROR(RemoveAllAt(fd, n));
  return Status::Ok();
}

}  // namespace

Status RemoveAllAt(int dir_fd, const std::string& name) {
  struct stat st {};
  if (!LstatAt(dir_fd, name, &st)) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus(fmt::format("remove {:?}", name), errno);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(fmt::format("remove {:?}", name), errno);
    UniqueFd owned(fd);
    BERTH_RETURN_IF_ERROR(RemoveChildren(fd, name));
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return ErrnoStatus(fmt::format("remove {:?}", name), errno);
    }
    return Status::Ok();
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoStatus(fmt::format("remove {:?}", name), errno);
  }
  return Status::Ok();
}

std::string FdPath(int dir_fd, const std::string& name) {
  return fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
}

}  // namespace berth::diff::rootfs
