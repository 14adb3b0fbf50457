// Snapshot records in the metadata DB: containerd's snapshot metastore (snapshots/storage)
// and its namespaced layer (metadata/snapshot.go) folded into one table, keyed by
// (namespace, snapshotter, key), each row holding the numeric id that names its directory.
// Stateless: every call runs inside the caller's transaction. Error texts are containerd's.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/status.h"
#include "metadata/db.h"
#include "snapshots/types.h"

namespace berth::snapshots::metastore {

struct Record {
  std::string ns;
  int64_t id = 0;
  Info info;
  DiskUsage usage;  // as recorded at commit; zero before
};

// NotFound `snapshot K does not exist`.
Result<Record> Get(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key);
// Ids of the parent chain of `parent` (itself first, then its parent, ...); empty for "".
Result<std::vector<int64_t>> ParentChain(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns,
                                         std::string_view parent);

// The checks of a Prepare/View before anything is created: a non-empty key, valid labels, the
// snapshot.ref target not taken (AlreadyExists `target snapshot "T"`), the key not taken
// (AlreadyExists `snapshot "K"`), the parent existing (NotFound `parent snapshot P does not
// exist`) and committed (InvalidArgument `parent "P" is not committed snapshot`).
// Returns the parent chain.
Result<std::vector<int64_t>> CheckCreate(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns,
                                         std::string_view key, std::string_view parent,
                                         const labels::Labels& labels);
// A fresh id for `snapshotter`; ids are never reused.
Result<int64_t> NextId(metadata::Tx& tx, std::string_view snapshotter);
// Runs CheckCreate again, creates the namespace if needed and inserts the record (kind view
// or active). Returns it.
Result<Record> Insert(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns, int64_t id, Kind kind,
                      std::string_view key, std::string_view parent, labels::Labels labels);
// Checks of a Commit: name free (AlreadyExists `snapshot "N"`), key present (NotFound) and
// active (FailedPrecondition `snapshot "K" is not active`). Returns the active record.
Result<Record> CheckCommit(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns,
                           std::string_view name, std::string_view key, const labels::Labels& labels);
// Turns active `key` into committed `name`, keeping its id; labels are replaced, not inherited.
Result<Record> Commit(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view name,
                      std::string_view key, labels::Labels labels, DiskUsage usage);
// Deletes the record: NotFound, or FailedPrecondition `cannot remove snapshot with child`.
// Returns what was removed.
Result<Record> Remove(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key);
// Labels by field mask ("labels", "labels.<k>"; none: replace all); InvalidArgument
// `cannot update "p" field on snapshot "K"` for any other path.
Result<Record> UpdateLabels(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns, const Info& info,
                            const std::vector<std::string>& paths);
// Every snapshot of `ns`, by key.
Result<std::vector<Record>> List(metadata::Tx& tx, std::string_view snapshotter, std::string_view ns);
// Every snapshot of every namespace (for GC).
Result<std::vector<Record>> All(metadata::Tx& tx, std::string_view snapshotter);
// Deletes the record of id `id` (GC), however it is linked.
Status RemoveById(metadata::Tx& tx, std::string_view snapshotter, int64_t id);
Result<std::set<int64_t>> Ids(metadata::Tx& tx, std::string_view snapshotter);

// The filter view of a snapshot (containerd's adaptSnapshot: kind, name, parent, labels.*).
filters::FuncAdaptor Adapt(const Info& info);

}  // namespace berth::snapshots::metastore
