// A snapshotter: containerd's snapshots.Snapshotter, namespaced the way containerd's
// metadata layer namespaces it (every call names the namespace; keys are per namespace and
// per snapshotter). Snapshots are active (writable, committable), views (read-only) or
// committed (immutable, the only kind that can be a parent). Each snapshotter also plugs
// into the garbage collector (metadata::SnapshotGc).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metadata/gc.h"
#include "mount/mount.h"
#include "snapshots/types.h"

namespace berth::snapshots {

// Thread-safety: implementations must be thread-safe; gRPC handler threads and the collector
// call them concurrently.
class Snapshotter : public metadata::SnapshotGc {
 public:
  ~Snapshotter() override = default;

  // "overlayfs", "native".
  virtual const std::string& name() const = 0;

  // NotFound `snapshot K does not exist`.
  virtual Result<Info> Stat(std::string_view ns, std::string_view key) = 0;
  // Labels only: paths "labels" / "labels.<k>", none replaces all labels.
  virtual Result<Info> Update(std::string_view ns, const Info& info, const std::vector<std::string>& paths) = 0;
  // Active snapshots are measured now (their upper dir); others report what their commit recorded.
  virtual Result<DiskUsage> Usage(std::string_view ns, std::string_view key) = 0;
  // The mounts of an active or view snapshot; FailedPrecondition for a committed one.
  virtual Result<std::vector<mount::Mount>> Mounts(std::string_view ns, std::string_view key) = 0;
  // A new active snapshot on `parent` (committed, or "" for none); returns its mounts.
  virtual Result<std::vector<mount::Mount>> Prepare(std::string_view ns, std::string_view key,
                                                    std::string_view parent, const CreateOptions& opts) = 0;
  // A new read-only view of `parent`.
  virtual Result<std::vector<mount::Mount>> View(std::string_view ns, std::string_view key,
                                                 std::string_view parent, const CreateOptions& opts) = 0;
  // Active `key` becomes committed `name` (labels from `opts`, not inherited).
  virtual Status Commit(std::string_view ns, std::string_view name, std::string_view key,
                        const CreateOptions& opts) = 0;
  // Removes the snapshot and its files; FailedPrecondition when it has children.
  virtual Status Remove(std::string_view ns, std::string_view key) = 0;
  // Snapshots of `ns` matching any of `filters` (fields kind, name, parent, labels.<k>), by key.
  // `fn` runs outside any transaction; an error from it stops the walk and is returned.
  virtual Status Walk(std::string_view ns, const std::vector<std::string>& filters,
                      const std::function<Status(const Info&)>& fn) = 0;
  // Removes directories no snapshot owns (left by crashes or failed removals).
  virtual Status Cleanup() = 0;
};

}  // namespace berth::snapshots
