// What the overlayfs and native snapshotters share: records in the metadata DB (metastore),
// one directory per snapshot under <root>/snapshots/<id>, and the order that keeps the two
// consistent across crashes:
//   create: id allocated in the DB, directory built as `new-<id>` outside any transaction,
//           renamed to `<id>` inside the transaction that inserts the record;
//   remove: record deleted, then (after the commit) `<id>` renamed to `rm-<id>` and deleted.
// Whatever a crash leaves (`new-*`, `rm-*`, an `<id>` without record) is removed by Cleanup,
// which runs when the snapshotter is opened.
// Subclasses say what a snapshot's directory holds and how it mounts.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include "metadata/db.h"
#include "snapshots/metastore.h"
#include "snapshots/snapshotter.h"

namespace berth::snapshots {

// Thread-safe: all methods may be called concurrently (records change in Db transactions; the
// ids whose directory is being built are behind a mutex, so Cleanup leaves them alone).
class DirSnapshotter : public Snapshotter {
 public:
  const std::string& name() const override { return name_; }
  const std::filesystem::path& root() const { return root_; }

  Result<Info> Stat(std::string_view ns, std::string_view key) override;
  Result<Info> Update(std::string_view ns, const Info& info, const std::vector<std::string>& paths) override;
  Result<DiskUsage> Usage(std::string_view ns, std::string_view key) override;
  Result<std::vector<mount::Mount>> Mounts(std::string_view ns, std::string_view key) override;
  Result<std::vector<mount::Mount>> Prepare(std::string_view ns, std::string_view key, std::string_view parent,
                                            const CreateOptions& opts) override;
  Result<std::vector<mount::Mount>> View(std::string_view ns, std::string_view key, std::string_view parent,
                                         const CreateOptions& opts) override;
  Status Commit(std::string_view ns, std::string_view name, std::string_view key,
                const CreateOptions& opts) override;
  Status Remove(std::string_view ns, std::string_view key) override;
  Status Walk(std::string_view ns, const std::vector<std::string>& filters,
              const std::function<Status(const Info&)>& fn) override;
  Status Cleanup() override;

  // metadata::SnapshotGc
  Status ForEach(metadata::Tx& tx, const std::function<void(const metadata::SnapshotRef&,
                                                             const std::map<std::string, std::string>&,
                                                             const std::string&)>& fn) override;
  Result<size_t> Sweep(metadata::Tx& tx, const std::set<metadata::SnapshotRef>& live,
                       metadata::AfterCommit& after_commit) override;

 protected:
  // `root` is this snapshotter's own directory (e.g. <daemon root>/snapshots/overlayfs).
  DirSnapshotter(metadata::Db& db, std::string name, std::filesystem::path root);
  // Creates <root>/snapshots and runs Cleanup; subclasses call it from their factory.
  Status Open();

  // <root>/snapshots/<id>
  std::filesystem::path SnapshotDir(int64_t id) const;

  // Whether a snapshot of `kind` with parents has a directory of its own (a native view of a
  // parent does not: it mounts the parent's).
  virtual bool HasOwnDir(Kind kind, bool has_parent) const = 0;
  // Fills the fresh directory `dir` for a snapshot of `kind` on `parents` (nearest first).
  virtual Status Populate(const std::filesystem::path& dir, Kind kind, const std::vector<int64_t>& parents) = 0;
  // The mounts of snapshot `id` of `kind` on `parents` (nearest first).
  virtual std::vector<mount::Mount> MountsOf(int64_t id, Kind kind, const std::vector<int64_t>& parents) const = 0;
  // The directory whose usage is the snapshot's own (overlay: its upper dir).
  virtual std::filesystem::path UsageDir(int64_t id) const = 0;

 private:
  Result<std::vector<mount::Mount>> Create(Kind kind, std::string_view ns, std::string_view key,
                                           std::string_view parent, const CreateOptions& opts);
  // Renames `<id>` to `rm-<id>` and deletes it; a missing directory is fine. Logs failures.
  void RemoveDir(int64_t id, std::string_view ns, std::string_view key) const;
  bool InProgress(int64_t id);

  metadata::Db& db_;
  std::string name_;
  std::filesystem::path root_;
  std::filesystem::path snapshots_dir_;
  std::mutex mu_;
  std::set<int64_t> in_progress_;  // ids whose `new-<id>` directory is being built
};

}  // namespace berth::snapshots
