// The directories an archive entry needs above it (containerd's mkparent): opened inside the
// root, missing ones created 0755 — or, when applying into an overlay upperdir, with the
// owner, mode, times and (non-trusted) xattrs of the same directory in the first lowerdir
// that has it, so the merged view does not change.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace berth::diff {

// Not thread-safe: used by the one thread applying a layer (ApplyLayer).
class ParentDirs {
 public:
  // Opens the lowerdirs (top first); missing ones are skipped.
  static Result<ParentDirs> Open(const std::vector<std::filesystem::path>& lowers);

  // The directory made of the first `n` of `components`, inside `root_fd`, created as needed.
  // A component that exists but is no directory (after symlinks, within the root) is an error.
  Result<UniqueFd> Ensure(int root_fd, const std::vector<std::string>& components, size_t n) const;

 private:
  // Gives the new directory `name` under `dir_fd` the attributes of `rel` in the first lower
  // that has it.
  Status CopyFromLower(int dir_fd, const std::string& name, const std::string& rel) const;

  std::vector<UniqueFd> lowers_;
};

}  // namespace berth::diff
