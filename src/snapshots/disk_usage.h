// du for a snapshot's directory, as containerd's continuity fs.DiskUsage counts it: every
// inode under (and including) the root once, however many hard links it has, and the bytes
// allocated to it (st_blocks * 512).
#pragma once

#include <filesystem>

#include "common/status.h"
#include "snapshots/types.h"

namespace berth::snapshots {

Result<DiskUsage> MeasureDiskUsage(const std::filesystem::path& root);

}  // namespace berth::snapshots
