#include "diff/gzip_writer.h"

#include <archive_entry.h>

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
  if (archive_write_open(a, w.get(), nullptr, &GzipWriter::WriteCallback, nullptr) != ARCHIVE_OK) {
    return w->Fail("open");
  }
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) return w->Fail("header");
  return w;
}

la_ssize_t GzipWriter::WriteCallback(struct archive* a, void* self, const void* buf, size_t n) {
  auto* w = static_cast<GzipWriter*>(self);
  Status st = w->out_(std::string_view(static_cast<const char*>(buf), n));
  if (!st.ok()) {
    w->sink_error_ = st;
    archive_set_error(a, EIO, "%s", st.ToString().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

Status GzipWriter::Fail(std::string_view what) {
  if (!sink_error_.ok()) return sink_error_;
  return Internal("gzip {}: {}", what, ArchiveError(raw_.get()));
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
