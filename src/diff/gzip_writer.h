// A gzip compressor over libarchive's "raw" writer with its gzip filter: bytes in, gzip out to
// a sink. Close() flushes the trailer.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "diff/archive_handle.h"
#include "diff/compare.h"

namespace berth::diff {

class GzipWriter {
 public:
  // `out` must outlive the writer.
  static Result<std::unique_ptr<GzipWriter>> Open(const ByteSink& out);
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  Status Write(std::string_view data);
  Status Close();

 private:
  explicit GzipWriter(const ByteSink& out) : out_(out) {}
  static la_ssize_t WriteCallback(struct archive* a, void* self, const void* buf, size_t n);
  Status Fail(std::string_view what);

  const ByteSink& out_;
  WriteArchive raw_;
  Status sink_error_;
};

}  // namespace berth::diff
