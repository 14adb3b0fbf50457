// The task's stdio across a checkpoint. berth-shim hands the container the client's fifos
// themselves (no copying pipes), and those live on a mount outside the container, which criu
// cannot dump. So criu is told, through the per-container criu config file runc reads (the
// `org.criu.config` annotation), to treat them as external files (`external file[mnt:ino]`) when
// dumping, and to plug the new task's stdio in their place (`inherit-fd fd[N]:file[mnt:ino]`)
// when restoring. The keys travel inside the checkpoint image (berth-stdio.json).
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "shim/process_io.h"

namespace berth::shim {

inline constexpr const char* kCriuConfigAnnotation = "org.criu.config";
inline constexpr const char* kCriuConfigFile = "criu.conf";
inline constexpr const char* kStdioKeysFile = "berth-stdio.json";

// Before the runtime creates the container: points the spec's org.criu.config at
// <bundle>/criu.conf (an empty file for now) unless the spec names its own. False when the
// spec has its own (then the user's config rules and stdio is left to it).
Result<bool> PrepareCriuConfig(const std::string& bundle);

struct StdioKey {
  std::string key;    // criu's file[mnt_id:inode], hex
  bool fifo = false;  // criu restores a fifo only onto a fifo of the same mode (StdioPipe
  uint32_t mode = 0;  // stands in otherwise); st_mode of the dumped file
};
using StdioKeys = std::map<int, StdioKey>;

// The key of each of the process's fds 0..2 that is one of the shim's stdio files (`paths`).
StdioKeys ExternalStdio(int pid, const StdioPaths& paths);

// Writes <bundle>/criu.conf: `external` lines for a dump.
Status WriteDumpConfig(const std::string& bundle, const StdioKeys& keys);
// Writes <bundle>/criu.conf: `inherit-fd` lines for a restore (criu's fds 0..2 are the new stdio).
Status WriteRestoreConfig(const std::string& bundle, const StdioKeys& keys);
// Empties <bundle>/criu.conf again.
void ClearCriuConfig(const std::string& bundle);

Status SaveStdioKeys(const std::string& image_dir, const StdioKeys& keys);
// NotFound when the image has none (not made by berth-shim, or no external stdio).
Result<StdioKeys> LoadStdioKeys(const std::string& image_dir);

}  // namespace berth::shim
