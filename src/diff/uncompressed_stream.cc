#include "diff/uncompressed_stream.h"

#include <archive_entry.h>

namespace berth::diff {
namespace {
constexpr size_t kBlobChunk = 1 << 20;
}

Result<std::unique_ptr<UncompressedStream>> UncompressedStream::Open(const content::ReaderAt& blob,
                                                                     std::string what) {
  BERTH_ASSIGN_OR_RETURN(auto hasher, Hasher::New("sha256"));
  std::unique_ptr<UncompressedStream> s(new UncompressedStream(blob, std::move(what), std::move(hasher)));
  s->in_.resize(kBlobChunk);
  s->raw_.reset(archive_read_new());
  if (!s->raw_) return Internal("decompress {}: out of memory", s->what_);
  archive* a = s->raw_.get();
  // containerd's DecompressStream knows gzip and zstd besides plain data; so do we.
  if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
      archive_read_support_format_raw(a) != ARCHIVE_OK || archive_read_support_format_empty(a) != ARCHIVE_OK) {
    return Internal("decompress {}: {}", s->what_, ArchiveError(a));
  }
  if (archive_read_open(a, s.get(), nullptr, &UncompressedStream::BlobCallback, nullptr) != ARCHIVE_OK) {
    if (!s->error_.ok()) return s->error_;
    return InvalidArgument("decompress {}: {}", s->what_, ArchiveError(a));
  }
  archive_entry* entry = nullptr;
  int rc = archive_read_next_header(a, &entry);
  if (rc == ARCHIVE_EOF) {
    s->eof_ = true;  // an empty blob: an empty stream
  } else if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
    if (!s->error_.ok()) return s->error_;
    return InvalidArgument("decompress {}: {}", s->what_, ArchiveError(a));
  } else if (archive_filter_count(a) > 2) {
    // One decompression, as containerd's: libarchive would also undo gzip(gzip(...)) and so
    // on, 25 deep, each multiplying what a small blob expands to.
    return InvalidArgument("decompress {}: compressed more than once ({} filters)", s->what_,
                           archive_filter_count(a) - 1);
  }
  return s;
}

la_ssize_t UncompressedStream::BlobCallback(struct archive* a, void* self, const void** buf) {
  auto* s = static_cast<UncompressedStream*>(self);
  auto n = s->blob_.ReadAt(std::span<char>(s->in_.data(), s->in_.size()), s->blob_offset_);
  if (!n.ok()) {
    s->error_ = n.status().Wrap(fmt::format("read {}", s->what_));
    archive_set_error(a, EIO, "%s", s->error_.ToString().c_str());
    return -1;
  }
  s->blob_offset_ += static_cast<int64_t>(*n);
  *buf = s->in_.data();
  return static_cast<la_ssize_t>(*n);
}

Result<size_t> UncompressedStream::Next(const void** data) {
  if (eof_) return size_t{0};
  size_t size = 0;
  while (size == 0) {  // (an empty block is not the end)
    la_int64_t offset = 0;
    int rc = archive_read_data_block(raw_.get(), data, &size, &offset);
    if (rc == ARCHIVE_EOF) {
      eof_ = true;
      return size_t{0};
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      if (error_.ok()) error_ = InvalidArgument("decompress {}: {}", what_, ArchiveError(raw_.get()));
      return error_;
    }
  }
  hasher_.Update(*data, size);
  size_ += static_cast<int64_t>(size);
  return size;
}

Status UncompressedStream::Drain() {
  const void* data = nullptr;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, Next(&data));
    if (n == 0) return Status::Ok();
  }
}

la_ssize_t UncompressedStream::ReadCallback(struct archive* a, void* self, const void** buf) {
  auto* s = static_cast<UncompressedStream*>(self);
  auto n = s->Next(buf);
  if (!n.ok()) {
    archive_set_error(a, EIO, "%s", n.status().ToString().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(*n);
}

}  // namespace berth::diff
