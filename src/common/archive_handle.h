// Owned libarchive handles, freed (and closed) exactly once with their owner, and the glue from
// a libarchive writer to a byte sink. Header-only, so berth_common does not link libarchive:
// the components that use it (diff, checkpoint, client) link it themselves.
//
// Not thread-safe: a libarchive handle (and its ArchiveSink) belongs to one thread at a time.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
// archive_read_new(), archive_read_disk_new()
using ReadArchive = std::unique_ptr<struct archive, ArchiveReadFree>;
// archive_write_new(), archive_write_disk_new()
using WriteArchive = std::unique_ptr<struct archive, ArchiveWriteFree>;
// archive_entry_new()
using ArchiveEntry = std::unique_ptr<struct archive_entry, ArchiveEntryFree>;

// libarchive's message for the last error on `a` (never empty).
inline std::string ArchiveError(struct archive* a) {
  const char* s = archive_error_string(a);
  return s != nullptr ? s : "unknown archive error";
}

// Where a writer's bytes go, in order; an error stops the writing.
using ByteSink = std::function<Status(std::string_view)>;

// A libarchive writer's output into a ByteSink. libarchive holds its address from Open until
// the archive is closed: it must not move meanwhile.
class ArchiveSink {
 public:
  explicit ArchiveSink(const ByteSink& out) : out_(out) {}
  ArchiveSink(const ArchiveSink&) = delete;
  ArchiveSink& operator=(const ArchiveSink&) = delete;

  // archive_write_open onto the sink: ARCHIVE_OK or libarchive's error code.
  int Open(struct archive* a) { return archive_write_open(a, this, nullptr, &Write, nullptr); }
  // Why the archive failed: the sink's own error when the sink failed (libarchive only echoes
  // it), else `otherwise`.
  Status Failure(Status otherwise) const { return error_.ok() ? std::move(otherwise) : error_; }

 private:
  static la_ssize_t Write(struct archive* a, void* self, const void* buf, size_t n) {
    auto* sink = static_cast<ArchiveSink*>(self);
    Status st = sink->out_(std::string_view(static_cast<const char*>(buf), n));
    if (!st.ok()) {
      sink->error_ = st;
      archive_set_error(a, EIO, "%s", st.ToString().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  const ByteSink& out_;
  Status error_;
};

}  // namespace berth
