#include "content/reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "common/files.h"

namespace berth::content {

Result<ReaderAt> ReaderAt::Open(const std::filesystem::path& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(fmt::format("stat {}", path.string()), errno);
  return ReaderAt(std::move(fd), static_cast<int64_t>(st.st_size), path);
}

Result<size_t> ReaderAt::ReadAt(std::span<char> buf, int64_t offset) const {
  if (offset < 0) return InvalidArgument("read {} at negative offset {}", path_.string(), offset);
  if (offset >= size_) return size_t{0};
  return files::PreadFull(fd_.get(), buf, offset, path_);
}

}  // namespace berth::content
