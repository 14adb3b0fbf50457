// A full copy of a directory tree for the native snapshotter (containerd's continuity
// fs.CopyDir): regular files, directories, symlinks, device nodes, fifos and sockets, with
// owners, modes, timestamps and extended attributes; hard links stay hard links. Extended
// attributes the destination refuses (security.*, trusted.* without privilege) are skipped,
// as containerd does.
#pragma once

#include <filesystem>

#include "common/status.h"

namespace berth::snapshots {

// Copies the contents of `src` into the existing directory `dst`, and `src`'s own metadata
// onto `dst`.
Status CopyDir(const std::filesystem::path& src, const std::filesystem::path& dst);

}  // namespace berth::snapshots
