// Owned libarchive handles: freed (and closed) exactly once, with their owner.
#pragma once

#include <archive.h>

#include <memory>
#include <string>

namespace berth::diff {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<struct archive, ArchiveReadFree>;
using WriteArchive = std::unique_ptr<struct archive, ArchiveWriteFree>;

// libarchive's message for the last error on `a` (never empty).
inline std::string ArchiveError(struct archive* a) {
  const char* s = archive_error_string(a);
  return s != nullptr ? s : "unknown archive error";
}

}  // namespace berth::diff
