// Small-file helpers for the content store's bookkeeping files (ingest ref, times, total).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "content/unique_fd.h"

namespace berth::content::files {

// open(2) with O_CLOEXEC; errors name the path.
Result<UniqueFd> Open(const std::filesystem::path& path, int flags, mode_t mode = 0);
// Writes `data` to `path` through a synced temp file renamed over it: readers see the old
// or the new content, never a torn one.
Status WriteAtomic(const std::filesystem::path& path, std::string_view data);
// Whole (small) file; NotFound when missing.
Result<std::string> ReadSmall(const std::filesystem::path& path);
// fsync of a directory, so that renames and creations in it are durable.
Status SyncDir(const std::filesystem::path& dir);
// Writes all of `data` at the fd's current position (retrying short writes and EINTR).
Status WriteAll(int fd, std::string_view data, const std::filesystem::path& what);
// pread until `buf` is full or EOF; returns the bytes read.
Result<size_t> PreadFull(int fd, std::span<char> buf, int64_t offset, const std::filesystem::path& what);
// Removes a directory tree; a missing one is fine.
Status RemoveAll(const std::filesystem::path& path);

}  // namespace berth::content::files
