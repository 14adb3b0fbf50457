// The OCI changeset between two directory trees (containerd's archive.WriteDiff with
// continuity's fs.Changes, the "walking" differ): a tar of what `upper` adds or changes
// relative to `lower` — changed entries in full, their parent directories as headers, hard
// links within the change as links — and `.wh.<name>` for what it deletes.
//
// An entry is unchanged when type, mode, owner, device, size (non-directories), mtime (to the
// nanosecond), symlink target and security.capability are all equal.
#pragma once

#include <filesystem>

#include "common/archive_handle.h"
#include "common/status.h"

namespace berth::diff {

// The tar stream's bytes go to `out`, in order.
Status WriteDiff(const std::filesystem::path& lower, const std::filesystem::path& upper, const ByteSink& out);

}  // namespace berth::diff
