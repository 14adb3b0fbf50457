// A layer blob's uncompressed bytes, produced in one pass: libarchive's filters (gzip, zstd,
// or none, chosen by the blob's magic) under its "raw" format decompress the blob; every byte
// handed out is hashed (sha256) and counted on the way, so that what the tar reader consumes
// plus what Drain() reads after it is exactly the uncompressed stream, and Finish() gives
// its digest (the layer's diff_id) and size — as containerd's applier tees the decompressed
// stream into a digester and reads any trailing data after the tar's end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/digest.h"
#include "content/reader.h"
#include "common/archive_handle.h"

namespace berth::diff {

// Not thread-safe: used by the one thread applying a layer (ApplyLayer).
class UncompressedStream {
 public:
  // `blob` must outlive the stream; `what` names it in errors.
  static Result<std::unique_ptr<UncompressedStream>> Open(const content::ReaderAt& blob, std::string what);
  UncompressedStream(const UncompressedStream&) = delete;
  UncompressedStream& operator=(const UncompressedStream&) = delete;

  // Points `*data` at the next uncompressed bytes and returns how many; 0 at the end.
  Result<size_t> Next(const void** data);
  // Reads (and hashes) whatever is left.
  Status Drain();
  // The digest and size of everything handed out. Call once, after Drain().
  Digest Finish() { return hasher_.Finish(); }
  int64_t size() const { return size_; }
  const std::string& what() const { return what_; }

  // The last error Next() met, for a caller that only sees a libarchive callback's -1.
  const Status& error() const { return error_; }
  // libarchive read callback over Next() (client data = this).
  static la_ssize_t ReadCallback(struct archive* a, void* self, const void** buf);

 private:
  UncompressedStream(const content::ReaderAt& blob, std::string what, Hasher hasher)
      : blob_(blob), what_(std::move(what)), hasher_(std::move(hasher)) {}
  static la_ssize_t BlobCallback(struct archive* a, void* self, const void** buf);

  const content::ReaderAt& blob_;
  std::string what_;
  Hasher hasher_;
  ReadArchive raw_;
  std::vector<char> in_;  // compressed bytes read from the blob
  int64_t blob_offset_ = 0;
  int64_t size_ = 0;
  bool eof_ = false;
  Status error_;
};

}  // namespace berth::diff
