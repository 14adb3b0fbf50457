#include "common/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace berth::files {

Result<UniqueFd> Open(const std::filesystem::path& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(fmt::format("open {}", path.string()), errno);
  return UniqueFd(fd);
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(fmt::format("write {}", what.string()), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<size_t> PreadFull(int fd, std::span<char> buf, int64_t offset, const std::filesystem::path& what) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(fmt::format("read {}", what.string()), errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status WriteAtomic(const std::filesystem::path& path, std::string_view data, Sync sync) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), data, tmp));
    if (sync == Sync::kYes && ::fsync(fd.get()) != 0) return ErrnoStatus(fmt::format("fsync {}", tmp.string()), errno);
    if (int err = fd.Close(); err != 0) return ErrnoStatus(fmt::format("close {}", tmp.string()), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(fmt::format("rename {} to {}", tmp.string(), path.string()), errno);
  }
  return Status::Ok();
}

Status WriteFile(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
  if (int err = fd.Close(); err != 0) return ErrnoStatus(fmt::format("close {}", path.string()), err);
  return Status::Ok();
}

Result<std::string> ReadSmall(const std::filesystem::path& path, size_t limit) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_RDONLY));
  return ReadFd(fd.get(), path, 0, limit);
}

Result<std::string> ReadFd(int fd, const std::filesystem::path& what, int64_t offset, size_t limit) {
  std::string out;
  char buf[4096];
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, PreadFull(fd, buf, offset + static_cast<int64_t>(out.size()), what));
    out.append(buf, n);
    if (out.size() > limit) return Internal("{}: larger than {} bytes", what.string(), limit);
    if (n < sizeof buf) break;
  }
  return out;
}

Status SyncDir(const std::filesystem::path& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(fmt::format("fsync {}", dir.string()), errno);
  return Status::Ok();
}

namespace {

Result<std::vector<std::string>> ReadNames(DIR* dir, const std::filesystem::path& what) {
  std::vector<std::string> out;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) return ErrnoStatus(fmt::format("read directory {}", what.string()), errno);
      return out;
    }
    std::string_view name = e->d_name;
    if (name != "." && name != "..") out.emplace_back(name);
  }
}

}  // namespace

Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) {
  UniqueDir d(::opendir(dir.c_str()));
  if (!d) return ErrnoStatus(fmt::format("open {}", dir.string()), errno);
  return ReadNames(d.get(), dir);
}

Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::filesystem::path& what) {
  UniqueFd dup(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) return ErrnoStatus(fmt::format("read directory {}", what.string()), errno);
  UniqueDir d(::fdopendir(dup.get()));
  if (!d) return ErrnoStatus(fmt::format("read directory {}", what.string()), errno);
  (void)dup.Release();  // the stream owns it now
  ::rewinddir(d.get());  // the duplicate shares the offset of `dir_fd`
  return ReadNames(d.get(), what);
}

Status RemoveAll(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status(Errc::kUnknown, fmt::format("remove {}: {}", path.string(), ec.message()));
  return Status::Ok();
}

}  // namespace berth::files
