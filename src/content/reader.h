// Random access to one committed blob: pread on an fd held open, so a blob deleted while it
// is being read stays readable until the reader goes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::content {

// Thread-compatible: ReadAt (pread, const) may be called concurrently; moving needs external sync.
class ReaderAt {
 public:
  static Result<ReaderAt> Open(const std::filesystem::path& path);
  ReaderAt(ReaderAt&&) = default;
  ReaderAt& operator=(ReaderAt&&) = default;

  int64_t size() const { return size_; }
  // Reads up to buf.size() bytes at `offset`; fewer only at the end of the blob (0 at or
  // past it).
  Result<size_t> ReadAt(std::span<char> buf, int64_t offset) const;

 private:
  ReaderAt(UniqueFd fd, int64_t size, std::filesystem::path path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}
  UniqueFd fd_;
  int64_t size_;
  std::filesystem::path path_;
};

}  // namespace berth::content
