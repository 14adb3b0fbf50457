#include "content/hash_file.h"

#include <vector>

#include "common/files.h"

namespace berth::content {

Result<int64_t> HashFd(int fd, Hasher& hasher, const std::filesystem::path& what) {
  std::vector<char> buf(1 << 20);
  int64_t offset = 0;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, files::PreadFull(fd, buf, offset, what));
    if (n == 0) break;
    hasher.Update(buf.data(), n);
    offset += static_cast<int64_t>(n);
    if (n < buf.size()) break;
  }
  return offset;
}

}  // namespace berth::content
