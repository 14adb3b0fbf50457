// Small-file and descriptor helpers over plain syscalls: open with O_CLOEXEC, whole writes and
// reads that retry EINTR and short counts, atomic replacement, directory sync. Errors carry
// the path and errno (NotFound for ENOENT). Used by the content store's bookkeeping files, the
// daemon's bundles and the shim's bundle, cgroup and options files.
//
// Thread-safe: free functions with no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::files {

// What ReadSmall reads at most before it gives up (Internal): these files are small by nature.
inline constexpr size_t kSmallFileLimit = 1 << 20;
// For a read that takes whatever is there (a program's captured output).
inline constexpr size_t kNoLimit = SIZE_MAX;

// open(2) with O_CLOEXEC; errors name the path.
Result<UniqueFd> Open(const std::filesystem::path& path, int flags, mode_t mode = 0);
// Whether WriteAtomic fsyncs the new content before the rename: kYes for what must survive a
// crash (the content store), kNo where only readers must never see a torn file (the shim's
// bundle files, on the container-start path).
enum class Sync { kYes, kNo };
// Writes `data` to `path` through a temp file ("<path>.tmp") renamed over it: readers see the
// old or the new content, never a torn one.
Status WriteAtomic(const std::filesystem::path& path, std::string_view data, Sync sync = Sync::kYes);
// Creates or truncates `path` and writes `data` (no fsync, no rename): for files nobody reads
// while they are written.
Status WriteFile(const std::filesystem::path& path, std::string_view data, mode_t mode = 0644);
// Whole (small) file; NotFound when missing, Internal past `limit` bytes.
Result<std::string> ReadSmall(const std::filesystem::path& path, size_t limit = kSmallFileLimit);
// The content of an open file from `offset` to its end, read with pread (the fd's position does
// not move, so a file kept open, such as cgroup's memory.events, can be read again); `what`
// names it in errors, Internal past `limit` bytes. Not for pipes.
Result<std::string> ReadFd(int fd, const std::filesystem::path& what, int64_t offset = 0,
                           size_t limit = kSmallFileLimit);
// fsync of a directory, so that renames and creations in it are durable.
Status SyncDir(const std::filesystem::path& dir);
// Writes all of `data` at the fd's current position (retrying short writes and EINTR).
Status WriteAll(int fd, std::string_view data, const std::filesystem::path& what);
// pread until `buf` is full or EOF; returns the bytes read.
Result<size_t> PreadFull(int fd, std::span<char> buf, int64_t offset, const std::filesystem::path& what);
// The names in a directory (without "." and ".."), in readdir order; NotFound when missing.
Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir);
// The same for an open directory, read from its start through a duplicate descriptor (`dir_fd`
// stays open and owned by the caller); `what` names it in errors.
Result<std::vector<std::string>> ListDirFd(int dir_fd, const std::filesystem::path& what);
// Removes a directory tree; a missing one is fine.
Status RemoveAll(const std::filesystem::path& path);

}  // namespace berth::files
