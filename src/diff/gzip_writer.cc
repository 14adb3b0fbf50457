#include "diff/gzip_writer.h"

namespace berth::diff {

Result<std::unique_ptr<GzipWriter>> GzipWriter::Open(const ByteSink& out) {
  std::unique_ptr<GzipWriter> w(new GzipWriter(out));
  w->raw_.reset(archive_write_new());
  if (!w->raw_) return Internal("gzip: out of memory");
  archive* a = w->raw_.get();
  if (archive_write_set_format_raw(a) != ARCHIVE_OK || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK) {
    return w->Fail("set up");
  }
  // No timestamp in the gzip header: the same tree gives the same blob.
  (void)archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
  if (w->sink_.Open(a) != ARCHIVE_OK) {
    return w->Fail("open");
  }
  ArchiveEntry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) return w->Fail("header");
  return w;
}

Status GzipWriter::Fail(std::string_view what) {
  return sink_.Failure(Internal("gzip {}: {}", what, ArchiveError(raw_.get())));
}

Status GzipWriter::Write(std::string_view data) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(raw_.get(), data.data(), data.size());
    if (n <= 0) return Fail("write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status GzipWriter::Close() {
  if (archive_write_close(raw_.get()) != ARCHIVE_OK) return Fail("close");
  return Status::Ok();
}

}  // namespace berth::diff
