// A file tree as one line per entry, for comparing two unpacked root filesystems:
// path, type, mode, owner, size or device numbers, content digest or symlink target,
// hard-link group, xattrs and mtime. Two trees are equal for an unpacker when their
// listings are.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace berth::e2e {

// Entries of `root` (root itself as "."), sorted by path. Does not follow symlinks and
// never opens anything but regular files.
std::vector<std::string> ListTree(const std::filesystem::path& root);

}  // namespace berth::e2e
