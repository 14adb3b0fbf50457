// A gzip compressor over libarchive's "raw" writer with its gzip filter: bytes in, gzip out to
// a sink. Close() flushes the trailer.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "common/archive_handle.h"
#include "diff/compare.h"

namespace berth::diff {

// Not thread-safe: used by the one thread writing a diff (Differ::Compare).
class GzipWriter {
 public:
  // `out` must outlive the writer.
  static Result<std::unique_ptr<GzipWriter>> Open(const ByteSink& out);
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  Status Write(std::string_view data);
  Status Close();

 private:
  explicit GzipWriter(const ByteSink& out) : sink_(out) {}
  Status Fail(std::string_view what);

  ArchiveSink sink_;  // the writer stays on the heap: libarchive holds the sink's address
  WriteArchive raw_;
};

}  // namespace berth::diff
