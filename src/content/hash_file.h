// Hashing a file's content through pread, in 1 MiB chunks (never loading it whole).
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/status.h"
#include "common/digest.h"

namespace berth::content {

// Feeds every byte of `fd` (from offset 0) to `hasher`; returns how many there were.
Result<int64_t> HashFd(int fd, Hasher& hasher, const std::filesystem::path& what);

}  // namespace berth::content
