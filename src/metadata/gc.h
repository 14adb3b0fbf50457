// Garbage collection over the metadata DB, with containerd's reference model.
//
// Mark: roots are images (their target and gc.ref labels), containers (their snapshot and
// gc.ref labels), leases that have not expired (every resource they hold), blobs and
// snapshots labelled `containerd.io/gc.root`, and ingests (an ingest keeps the content it is
// expected to become). Edges run from an object's `containerd.io/gc.ref.content*` labels to
// blobs and from `containerd.io/gc.ref.snapshot.<snapshotter>*` labels to snapshots, and from a
// snapshot to its parent. Everything is per namespace.
// Sweep: expired leases, blob ownership rows nobody reaches, snapshots nobody reaches (through
// each snapshotter's hook), and finally blob files on disk that no namespace owns.
//
// A collection runs inside one Db::Update, so it is atomic with respect to every metadata
// change. Files (blob files, snapshot directories) are removed after that transaction has
// committed but before the DB's lock is released (Db::UpdateThen): content commits
// (which rename into blobs/ inside their own Db::Update) can never interleave with the file
// sweep, and a crash between the commit and the removals leaves orphan files, which the next
// collection (blobs) or the snapshotter's start-up cleanup (directories) removes.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/timeutil.h"
#include "metadata/db.h"

namespace berth::metadata {

inline constexpr std::string_view kLabelGcRoot = "containerd.io/gc.root";
inline constexpr std::string_view kLabelGcRefContent = "containerd.io/gc.ref.content";
inline constexpr std::string_view kLabelGcRefSnapshot = "containerd.io/gc.ref.snapshot.";
inline constexpr std::string_view kLabelGcExpire = "containerd.io/gc.expire";

// What the collector needs from the content store's files.
struct BlobFiles {
  // Calls back with every blob digest ("sha256:...") present on disk.
  std::function<Status(const std::function<void(const std::string&)>&)> for_each;
  std::function<Status(const std::string& digest)> remove;
};

// What a sweep removes from disk once its transaction has committed (gc.h's header: rows
// first, files after, so a crash in between leaves orphan files for the next start or
// collection, never a listed object without its data).
using AfterCommit = std::vector<std::function<void()>>;

// A (namespace, key) pair naming a snapshot inside one snapshotter.
using SnapshotRef = std::pair<std::string, std::string>;

// Each snapshotter plugs its snapshots into the graph (parents, labels) and sweeps its own.
// Thread-safety: called only inside the collector's Db::Update, so never concurrently.
class SnapshotGc {
 public:
  virtual ~SnapshotGc() = default;
  // Every snapshot of this snapshotter (to find roots by label and to know what exists).
  virtual Status ForEach(Tx& tx, const std::function<void(const SnapshotRef& ref,
                                                           const std::map<std::string, std::string>& labels,
                                                           const std::string& parent_key)>& fn) = 0;
  // Removes the record of every snapshot not in `live` and queues the removal of its
  // directory on `after_commit`; returns how many went.
  virtual Result<size_t> Sweep(Tx& tx, const std::set<SnapshotRef>& live, AfterCommit& after_commit) = 0;
};

struct GcStats {
  size_t leases_expired = 0;
  size_t blob_rows_removed = 0;
  size_t blob_files_removed = 0;
  size_t snapshots_removed = 0;
  std::chrono::microseconds took{0};
};

// Thread-safe after set-up: AddSnapshotter only before the first Collect; Collect may be called
// from any thread (each runs inside one Db::Update, so collections never overlap).
class GarbageCollection {
 public:
  GarbageCollection(Db& db, BlobFiles files) : db_(db), files_(std::move(files)) {}

  // Registers a snapshotter by name (e.g. "overlayfs"); it must outlive this object.
  void AddSnapshotter(std::string name, SnapshotGc* gc) { snapshotters_[std::move(name)] = gc; }

  // One full mark and sweep, as of `now` (for lease expiry).
  Result<GcStats> Collect(TimePoint now);

 private:
  Db& db_;
  BlobFiles files_;
  std::map<std::string, SnapshotGc*> snapshotters_;
};

}  // namespace berth::metadata
