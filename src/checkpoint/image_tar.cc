#include "checkpoint/image_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "diff/apply.h"
#include "common/archive_handle.h"
#include "common/files.h"

namespace berth::checkpoint {
namespace fs = std::filesystem;
namespace {

Status AddEntry(struct archive* a, const fs::path& full, const std::string& name, const struct stat& st) {
  ArchiveEntry e(archive_entry_new());
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_set_pathname(e.get(), name.c_str());
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return Unknown("checkpoint tar: {}: {}", name, ArchiveError(a));
  }
  if (!S_ISREG(st.st_mode)) return Status::Ok();
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, files::Open(full, O_RDONLY | O_NOFOLLOW));
  std::vector<char> buf(1 << 20);
  for (int64_t offset = 0;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, files::PreadFull(fd.get(), buf, offset, full));
    if (n == 0) return Status::Ok();
    if (archive_write_data(a, buf.data(), n) != static_cast<la_ssize_t>(n)) {
      return Unknown("checkpoint tar: {}: {}", name, ArchiveError(a));
    }
    offset += static_cast<int64_t>(n);
  }
}

Status AddTree(struct archive* a, const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  if (ec) return Unknown("read {}: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());  // the same files give the same blob
  for (const auto& n : names) {
    fs::path full = dir / n;
    std::string name = prefix + n;
    struct stat st{};
    if (::lstat(full.c_str(), &st) != 0) return ErrnoStatus("stat " + full.string(), errno);
    if (S_ISDIR(st.st_mode)) {
      BERTH_RETURN_IF_ERROR(AddEntry(a, full, name + "/", st));
      BERTH_RETURN_IF_ERROR(AddTree(a, full, name + "/"));
    } else if (S_ISREG(st.st_mode)) {
      BERTH_RETURN_IF_ERROR(AddEntry(a, full, name, st));
    } else {
      return FailedPrecondition("checkpoint image {}: {} is neither a file nor a directory", dir.string(), name);
    }
  }
  return Status::Ok();
}

}  // namespace

Status WriteImageTar(const fs::path& dir, const ByteSink& out) {
  ArchiveSink sink(out);  // outlives the archive, which may still write when freed
  WriteArchive a(archive_write_new());
  if (!a) return Unknown("checkpoint tar: out of memory");
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK || sink.Open(a.get()) != ARCHIVE_OK) {
    return Unknown("checkpoint tar: {}", ArchiveError(a.get()));
  }
  Status st = AddTree(a.get(), dir, "");
  if (st.ok() && archive_write_close(a.get()) != ARCHIVE_OK) {
    st = Unknown("checkpoint tar: {}", ArchiveError(a.get()));
  }
  return sink.Failure(std::move(st));
}

Status ExtractImageTar(const content::ReaderAt& blob, const fs::path& dir) {
  diff::ApplyOptions opts;
  opts.what = "checkpoint image";
  return diff::ApplyLayer(blob, dir, opts).status();
}

}  // namespace berth::checkpoint
