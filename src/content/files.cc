#include "content/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace berth::content::files {

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

Status WriteAtomic(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), data, tmp));
    if (::fsync(fd.get()) != 0) return ErrnoStatus(fmt::format("fsync {}", tmp.string()), errno);
    if (int err = fd.Close(); err != 0) return ErrnoStatus(fmt::format("close {}", tmp.string()), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(fmt::format("rename {} to {}", tmp.string(), path.string()), errno);
  }
  return Status::Ok();
}

Result<std::string> ReadSmall(const std::filesystem::path& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_RDONLY));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(fmt::format("read {}", path.string()), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) return Internal("{}: bookkeeping file too large", path.string());
  }
  return out;
}

Status SyncDir(const std::filesystem::path& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(fmt::format("fsync {}", dir.string()), errno);
  return Status::Ok();
}

Status RemoveAll(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status(Errc::kUnknown, fmt::format("remove {}: {}", path.string(), ec.message()));
  return Status::Ok();
}

}  // namespace berth::content::files
