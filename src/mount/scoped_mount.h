// RAII for a temporary mount: mounts a list of mounts on a fresh temp directory and always
// unmounts (and removes the directory) when it goes out of scope.
//
//   BERTH_ASSIGN_OR_RETURN(auto m, mount::ScopedMount::Create(mounts));
//   ReadTree(m.path());   // the snapshot's contents
//   BERTH_RETURN_IF_ERROR(m.Release());  // optional: to see the unmount error
#pragma once

#include <filesystem>
#include <vector>

#include "common/status.h"
#include "mount/mount.h"

namespace berth::mount {

// Not thread-safe: one owner (move it to hand it over). Separate ScopedMounts may be made on many
// threads at once: each gets its own mkdtemp directory.
class ScopedMount {
 public:
  // Creates `<parent>/berth-mount-XXXXXX` and mounts `mounts` on it (MountAll). An empty
  // list is InvalidArgument.
  static Result<ScopedMount> Create(const std::vector<Mount>& mounts,
                                    const std::filesystem::path& parent = std::filesystem::temp_directory_path());
  ScopedMount(ScopedMount&& o) noexcept;
  ScopedMount& operator=(ScopedMount&& o) noexcept;
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  ~ScopedMount();  // Release(), errors logged

  // Where the mounts are.
  const std::filesystem::path& path() const { return path_; }
  // Unmounts and removes the directory now; idempotent.
  Status Release();

 private:
  explicit ScopedMount(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace berth::mount
