#include "client/tar_archive.h"

#include <fmt/format.h>

namespace berth::client {

TarWriter::TarWriter(std::ostream& out) : out_(out), archive_(archive_write_new()) {}

TarWriter::~TarWriter() = default;

la_ssize_t TarWriter::WriteCallback(archive* a, void* self, const void* buffer, size_t length) {
  auto* writer = static_cast<TarWriter*>(self);
  writer->out_.write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
  if (!writer->out_) {
    archive_set_error(a, EIO, "writing the archive failed");
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

Status TarWriter::Open() {
  if (archive_ == nullptr) return Internal("out of memory creating an archive writer");
  archive* a = archive_.get();
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_add_filter_none(a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
      archive_write_open2(a, this, nullptr, &TarWriter::WriteCallback, nullptr, nullptr) !=
          ARCHIVE_OK) {
    return Unknown("cannot start the archive: {}", ArchiveError(a));
  }
  open_ = true;
  return Status::Ok();
}

Status TarWriter::Header(const std::string& name, unsigned type, int mode, int64_t size) {
  ArchiveEntry entry(archive_entry_new());
  if (entry == nullptr) return Internal("out of memory creating an archive entry");
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), static_cast<mode_t>(mode));
  archive_entry_set_size(entry.get(), size);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  archive_entry_set_mtime(entry.get(), 0, 0);
  if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) {
    return Unknown("writing archive entry {:?}: {}", name, ArchiveError(archive_.get()));
  }
  return Status::Ok();
}

Status TarWriter::AddDirectory(const std::string& name, int mode) {
  return Header(name, AE_IFDIR, mode, 0);
}

Status TarWriter::BeginFile(const std::string& name, int mode, int64_t size) {
  return Header(name, AE_IFREG, mode, size);
}

Status TarWriter::Write(std::string_view data) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(archive_.get(), data.data(), data.size());
    if (n <= 0) return Unknown("writing the archive: {}", ArchiveError(archive_.get()));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status TarWriter::AddFile(const std::string& name, int mode, std::string_view data) {
  BERTH_RETURN_IF_ERROR(BeginFile(name, mode, static_cast<int64_t>(data.size())));
  return Write(data);
}

Status TarWriter::Close() {
  if (!open_) return Status::Ok();
  open_ = false;
  if (archive_write_close(archive_.get()) != ARCHIVE_OK) {
    return Unknown("finishing the archive: {}", ArchiveError(archive_.get()));
  }
  out_.flush();
  if (!out_) return Unknown("writing the archive failed");
  return Status::Ok();
}

TarReader::TarReader(std::istream& in) : in_(in), archive_(archive_read_new()) {}

la_ssize_t TarReader::ReadCallback(archive* a, void* self, const void** buffer) {
  auto* reader = static_cast<TarReader*>(self);
  reader->in_.read(reader->buffer_.data(), static_cast<std::streamsize>(reader->buffer_.size()));
  if (reader->in_.bad()) {
    archive_set_error(a, EIO, "reading the input failed");
    return -1;
  }
  *buffer = reader->buffer_.data();
  return static_cast<la_ssize_t>(reader->in_.gcount());
}

Status TarReader::Open() {
  if (archive_ == nullptr) return Internal("out of memory creating an archive reader");
  archive* a = archive_.get();
  if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
      archive_read_support_filter_all(a) < ARCHIVE_WARN ||
      archive_read_open(a, this, nullptr, &TarReader::ReadCallback, nullptr) != ARCHIVE_OK) {
    return InvalidArgument("not a tar archive: {}", ArchiveError(a));
  }
  return Status::Ok();
}

Result<archive_entry*> TarReader::Next() {
  archive_entry* entry = nullptr;
  int rc = archive_read_next_header(archive_.get(), &entry);
  if (rc == ARCHIVE_EOF) return static_cast<archive_entry*>(nullptr);
  if (rc < ARCHIVE_WARN)
    return InvalidArgument("not a tar archive: {}", ArchiveError(archive_.get()));
  return entry;
}

Result<std::string> TarReader::ReadAll(int64_t limit) {
  std::string out;
  for (;;) {
    la_ssize_t n = archive_read_data(archive_.get(), buffer_.data(), buffer_.size());
    if (n < 0) return InvalidArgument("damaged tar archive: {}", ArchiveError(archive_.get()));
    if (n == 0) return out;
    if (static_cast<int64_t>(out.size()) + n > limit) {
      return InvalidArgument("larger than {} bytes", limit);
    }
    out.append(buffer_.data(), static_cast<size_t>(n));
  }
}

EntryStreamBuf::int_type EntryStreamBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (!error_.empty()) return traits_type::eof();
  la_ssize_t n = archive_read_data(reader_.handle(), buffer_.data(), buffer_.size());
  if (n < 0) {
    error_ = fmt::format("damaged tar archive: {}", ArchiveError(reader_.handle()));
    return traits_type::eof();
  }
  if (n == 0) return traits_type::eof();
  if (head_.size() < 16) {
    head_.append(buffer_.data(), std::min<size_t>(16 - head_.size(), static_cast<size_t>(n)));
  }
  setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
  return traits_type::to_int_type(*gptr());
}

}  // namespace berth::client
