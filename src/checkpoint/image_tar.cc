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
#include "diff/archive_handle.h"

namespace berth::checkpoint {
namespace fs = std::filesystem;
namespace {

struct SinkState {
  const ByteSink* sink;
  Status error;
};

la_ssize_t WriteCallback(struct archive*, void* data, const void* buf, size_t n) {
  auto* st = static_cast<SinkState*>(data);
  Status s = (*st->sink)(std::string_view(static_cast<const char*>(buf), n));
  if (!s.ok()) {
    st->error = s;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

Status AddEntry(struct archive* a, const fs::path& full, const std::string& name, const struct stat& st) {
  struct ArchiveEntryFree {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
  };
  std::unique_ptr<struct archive_entry, ArchiveEntryFree> e(archive_entry_new());
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_set_pathname(e.get(), name.c_str());
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return Unknown("checkpoint tar: {}: {}", name, diff::ArchiveError(a));
  }
  if (!S_ISREG(st.st_mode)) return Status::Ok();
  int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus("open " + full.string(), errno);
  std::vector<char> buf(1 << 20);
  Status out = Status::Ok();
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out = ErrnoStatus("read " + full.string(), errno);
      break;
    }
    if (n == 0) break;
    if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n) {
      out = Unknown("checkpoint tar: {}: {}", name, diff::ArchiveError(a));
      break;
    }
  }
  ::close(fd);
  return out;
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
  diff::WriteArchive a(archive_write_new());
  if (!a) return Unknown("checkpoint tar: out of memory");
  SinkState state{&out, Status::Ok()};
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open(a.get(), &state, nullptr, &WriteCallback, nullptr) != ARCHIVE_OK) {
    return Unknown("checkpoint tar: {}", diff::ArchiveError(a.get()));
  }
  Status st = AddTree(a.get(), dir, "");
  if (st.ok() && archive_write_close(a.get()) != ARCHIVE_OK) {
    st = Unknown("checkpoint tar: {}", diff::ArchiveError(a.get()));
  }
  if (!state.error.ok()) return state.error;
  return st;
}

Status ExtractImageTar(const content::ReaderAt& blob, const fs::path& dir) {
  diff::ApplyOptions opts;
  opts.what = "checkpoint image";
  return diff::ApplyLayer(blob, dir, opts).status();
}

}  // namespace berth::checkpoint
