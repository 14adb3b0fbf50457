// libarchive handles for image archives (image_export.cc, image_import.cc): RAII owners and the
// glue between libarchive's callbacks and iostreams. Private to the client library.
#pragma once

#include <array>
#include <istream>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "common/archive_handle.h"
#include "common/status.h"

namespace berth::client {

// A tar writer (pax restricted: ustar unless a name needs more) onto `out`. Entries are
// owned by 0:0, with mtime 0, so equal inputs give equal bytes.
// Not thread-safe: used by the one thread exporting an image.
class TarWriter {
 public:
  explicit TarWriter(std::ostream& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status Open();
  Status AddDirectory(const std::string& name, int mode);
  // Starts a regular file of `size` bytes; its bytes follow through Write.
  Status BeginFile(const std::string& name, int mode, int64_t size);
  Status Write(std::string_view data);
  Status AddFile(const std::string& name, int mode, std::string_view data);
  // Writes the end of the archive.
  Status Close();

 private:
  Status Header(const std::string& name, unsigned type, int mode, int64_t size);
  static la_ssize_t WriteCallback(archive* a, void* self, const void* buffer, size_t length);

  std::ostream& out_;
  WriteArchive archive_;
  bool open_ = false;
};

// Reads the tar (plain or compressed) from `in`; entries through Next and their bytes through
// the reader itself or EntryStream.
// Not thread-safe: used by the one thread importing an image.
class TarReader {
 public:
  explicit TarReader(std::istream& in);
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  Status Open();
  // The next entry; nullptr at the end of the archive. kInvalidArgument when the input is not
  // a tar or is damaged.
  Result<archive_entry*> Next();
  // The whole of the current entry, at most `limit` bytes.
  Result<std::string> ReadAll(int64_t limit);
  archive* handle() { return archive_.get(); }

 private:
  static la_ssize_t ReadCallback(archive* a, void* self, const void** buffer);

  std::istream& in_;
  ReadArchive archive_;
  std::array<char, 1 << 16> buffer_{};
};

// The current entry of a TarReader as a streambuf (for Client::WriteContent), remembering the
// entry's first bytes (to tell a compressed layer) and whether reading failed.
// Not thread-safe: lives for one entry, on the TarReader's thread.
class EntryStreamBuf : public std::streambuf {
 public:
  explicit EntryStreamBuf(TarReader& reader) : reader_(reader) {}
  const std::string& head() const { return head_; }
  const std::string& error() const { return error_; }

 protected:
  int_type underflow() override;

 private:
  TarReader& reader_;
  std::array<char, 1 << 16> buffer_{};
  std::string head_;
  std::string error_;
};

}  // namespace berth::client
