#include "snapshots/dir_snapshotter.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <utility>

#include "common/crash_point.h"
#include "common/filters.h"
#include "common/logging.h"
#include "metadata/lease_resources.h"
#include "snapshots/disk_usage.h"

namespace berth::snapshots {
namespace {

namespace fs = std::filesystem;
using metadata::Tx;

constexpr std::string_view kNewPrefix = "new-";
constexpr std::string_view kTrashPrefix = "rm-";

std::optional<int64_t> ParseId(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

// Removes a whole tree; errors logged, not returned (the DB no longer knows the directory).
void RemoveTree(const fs::path& p, std::string_view snapshotter) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) log::Warn("remove snapshot directory", {{"snapshotter", snapshotter}, {"path", p.string()}, {"error", ec.message()}});
}

// Frees `key` from every lease of `ns`: a key that no longer exists must not keep a future
// snapshot of the same key alive.
Status DropLeaseResources(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key) {
  namespace lr = metadata::lease_resources;
  return lr::RemoveFromAllLeases(tx, ns, lr::SnapshotType(snapshotter), key);
}

}  // namespace

DirSnapshotter::DirSnapshotter(metadata::Db& db, std::string name, fs::path root)
    : db_(db), name_(std::move(name)), root_(std::move(root)), snapshots_dir_(root_ / "snapshots") {}

Status DirSnapshotter::Open() {
  std::error_code ec;
  fs::create_directories(snapshots_dir_, ec);
  if (ec) return Unknown("snapshotter {:?}: create {}: {}", name_, snapshots_dir_.string(), ec.message());
  if (::chmod(root_.c_str(), 0700) != 0 || ::chmod(snapshots_dir_.c_str(), 0700) != 0) {
    return ErrnoStatus(fmt::format("snapshotter {:?}: chmod {}", name_, snapshots_dir_.string()), errno);
  }
  return Cleanup();
}

fs::path DirSnapshotter::SnapshotDir(int64_t id) const { return snapshots_dir_ / std::to_string(id); }

bool DirSnapshotter::InProgress(int64_t id) {
  std::lock_guard lock(mu_);
  return in_progress_.contains(id);
}

Result<Info> DirSnapshotter::Stat(std::string_view ns, std::string_view key) {
  Info out;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto r, metastore::Get(tx, name_, ns, key));
    out = std::move(r.info);
    return Status::Ok();
  }));
  return out;
}

Result<Info> DirSnapshotter::Update(std::string_view ns, const Info& info, const std::vector<std::string>& paths) {
  Info out;
  BERTH_RETURN_IF_ERROR(db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto r, metastore::UpdateLabels(tx, name_, ns, info, paths));
    out = std::move(r.info);
    return Status::Ok();
  }));
  return out;
}

Result<DiskUsage> DirSnapshotter::Usage(std::string_view ns, std::string_view key) {
  metastore::Record r;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(r, metastore::Get(tx, name_, ns, key));
    return Status::Ok();
  }));
  if (r.info.kind != Kind::kActive) return r.usage;
  return MeasureDiskUsage(UsageDir(r.id));
}

Result<std::vector<mount::Mount>> DirSnapshotter::Mounts(std::string_view ns, std::string_view key) {
  std::vector<mount::Mount> out;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto r, metastore::Get(tx, name_, ns, key));
    if (r.info.kind != Kind::kActive && r.info.kind != Kind::kView) {
      return FailedPrecondition("failed to get active mount: requested snapshot {} not active or view", key);
    }
    BERTH_ASSIGN_OR_RETURN(auto parents, metastore::ParentChain(tx, name_, ns, r.info.parent));
    out = MountsOf(r.id, r.info.kind, parents);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<mount::Mount>> DirSnapshotter::Prepare(std::string_view ns, std::string_view key,
                                                          std::string_view parent, const CreateOptions& opts) {
  return Create(Kind::kActive, ns, key, parent, opts);
}

Result<std::vector<mount::Mount>> DirSnapshotter::View(std::string_view ns, std::string_view key,
                                                       std::string_view parent, const CreateOptions& opts) {
  return Create(Kind::kView, ns, key, parent, opts);
}

Result<std::vector<mount::Mount>> DirSnapshotter::Create(Kind kind, std::string_view ns, std::string_view key,
                                                         std::string_view parent, const CreateOptions& opts) {
  // 1. Check and take an id (cheap, in the DB).
  int64_t id = 0;
  std::vector<int64_t> parents;
  BERTH_RETURN_IF_ERROR(db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(parents, metastore::CheckCreate(tx, name_, ns, key, parent, opts.labels));
    BERTH_ASSIGN_OR_RETURN(id, metastore::NextId(tx, name_));
    return Status::Ok();
  }));

  // 2. Build the directory outside any transaction (a native copy may take long).
  const bool own_dir = HasOwnDir(kind, !parents.empty());
  const fs::path staging = snapshots_dir_ / fmt::format("{}{}", kNewPrefix, id);
  if (own_dir) {
    {
      std::lock_guard lock(mu_);
      in_progress_.insert(id);
    }
    Status built = [&]() -> Status {
      if (::mkdir(staging.c_str(), 0700) != 0) return ErrnoStatus(fmt::format("create {}", staging.string()), errno);
      return Populate(staging, kind, parents);
    }();
    if (!built.ok()) {
      RemoveTree(staging, name_);
      std::lock_guard lock(mu_);
      in_progress_.erase(id);
      return built.Wrap(fmt::format("prepare snapshot {:?}", key));
    }
  }

  CrashPoint("snapshot.create.staged");
  // 3. Insert the record and move the directory into place in one transaction.
  std::vector<mount::Mount> mounts;
  Status st = db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto r, metastore::Insert(tx, name_, ns, id, kind, key, parent, opts.labels));
    if (opts.lease) {
      BERTH_RETURN_IF_ERROR(metadata::lease_resources::Add(tx, ns, *opts.lease,
                                                           metadata::lease_resources::SnapshotType(name_), key));
    }
    BERTH_ASSIGN_OR_RETURN(parents, metastore::ParentChain(tx, name_, ns, parent));
    if (own_dir && ::rename(staging.c_str(), SnapshotDir(id).c_str()) != 0) {
      return ErrnoStatus(fmt::format("rename {}", staging.string()), errno);
    }
    CrashPoint("snapshot.create.renamed");
    mounts = MountsOf(id, kind, parents);
    return Status::Ok();
  });
  if (own_dir) {
    if (!st.ok()) {
      RemoveTree(staging, name_);
      RemoveTree(SnapshotDir(id), name_);  // renamed, then the commit failed
    }
    std::lock_guard lock(mu_);
    in_progress_.erase(id);
  }
  if (!st.ok()) return st;
  log::Info(kind == Kind::kActive ? "snapshot prepared" : "snapshot view created",
            {{"snapshotter", name_}, {"namespace", ns}, {"key", key}, {"parent", parent}, {"id", id}});
  return mounts;
}

Status DirSnapshotter::Commit(std::string_view ns, std::string_view name, std::string_view key,
                              const CreateOptions& opts) {
  metastore::Record active;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(active, metastore::CheckCommit(tx, name_, ns, name, key, opts.labels));
    return Status::Ok();
  }));
  // Measured before the transaction: du of a big upper dir must not hold the DB.
  BERTH_ASSIGN_OR_RETURN(DiskUsage usage, MeasureDiskUsage(UsageDir(active.id)));
  CrashPoint("snapshot.commit.measured");
  Status committed = db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto r, metastore::Commit(tx, name_, ns, name, key, opts.labels, usage));
    if (r.id != active.id) return FailedPrecondition("snapshot {:?} changed while committing", key);
    if (opts.lease) {
      const std::string type = metadata::lease_resources::SnapshotType(name_);
      BERTH_RETURN_IF_ERROR(metadata::lease_resources::Add(tx, ns, *opts.lease, type, name));
      BERTH_RETURN_IF_ERROR(metadata::lease_resources::Remove(tx, ns, *opts.lease, type, key));
    }
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  log::Info("snapshot committed", {{"snapshotter", name_}, {"namespace", ns}, {"key", key}, {"name", name},
                                   {"id", active.id}, {"size", usage.size}});
  return Status::Ok();
}

Status DirSnapshotter::Remove(std::string_view ns, std::string_view key) {
  metastore::Record removed;
  BERTH_RETURN_IF_ERROR(db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(removed, metastore::Remove(tx, name_, ns, key));
    return DropLeaseResources(tx, name_, ns, key);
  }));
  CrashPoint("snapshot.remove.committed");
  RemoveDir(removed.id, ns, key);
  log::Info("snapshot removed", {{"snapshotter", name_}, {"namespace", ns}, {"key", key}, {"id", removed.id}});
  return Status::Ok();
}

void DirSnapshotter::RemoveDir(int64_t id, std::string_view ns, std::string_view key) const {
  const fs::path dir = SnapshotDir(id);
  const fs::path trash = snapshots_dir_ / fmt::format("{}{}", kTrashPrefix, id);
  if (::rename(dir.c_str(), trash.c_str()) != 0) {
    if (errno != ENOENT) {
      log::Warn("move removed snapshot to trash", {{"snapshotter", name_}, {"namespace", ns}, {"key", key},
                                                   {"path", dir.string()}, {"errno", errno}});
    }
    return;
  }
  CrashPoint("snapshot.remove.trashed");
  RemoveTree(trash, name_);
}

Status DirSnapshotter::Walk(std::string_view ns, const std::vector<std::string>& filter_strings,
                            const std::function<Status(const Info&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(filter_strings));
  std::vector<metastore::Record> all;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(all, metastore::List(tx, name_, ns));
    return Status::Ok();
  }));
  for (const auto& r : all) {
    if (!filter->Match(metastore::Adapt(r.info))) continue;
    BERTH_RETURN_IF_ERROR(fn(r.info));
  }
  return Status::Ok();
}

Status DirSnapshotter::Cleanup() {
  // The directory listing first, the ids after: a directory renamed into place by a create
  // is then either still `new-<id>` (skipped while in progress) or has its record visible.
  std::vector<std::string> entries;
  {
    std::error_code ec;
    for (fs::directory_iterator it(snapshots_dir_, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path().filename().string());
    }
    if (ec) return Unknown("snapshotter {:?}: list {}: {}", name_, snapshots_dir_.string(), ec.message());
  }
  std::set<int64_t> ids;
  BERTH_RETURN_IF_ERROR(db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(ids, metastore::Ids(tx, name_));
    return Status::Ok();
  }));
  size_t removed = 0;
  for (const auto& e : entries) {
    std::string_view n(e);
    if (auto id = ParseId(n)) {
      if (ids.contains(*id)) continue;
      RemoveDir(*id, "", "");
    } else if (n.starts_with(kNewPrefix)) {
      auto staged = ParseId(n.substr(kNewPrefix.size()));
      if (staged && InProgress(*staged)) continue;
      RemoveTree(snapshots_dir_ / e, name_);
    } else {
      // rm-<id> left by an interrupted removal, or anything else that is not ours to keep.
      RemoveTree(snapshots_dir_ / e, name_);
    }
    ++removed;
  }
  if (removed > 0) log::Info("snapshot directories cleaned up", {{"snapshotter", name_}, {"count", removed}});
  return Status::Ok();
}

Status DirSnapshotter::ForEach(Tx& tx, const std::function<void(const metadata::SnapshotRef&,
                                                                const std::map<std::string, std::string>&,
                                                                const std::string&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto all, metastore::All(tx, name_));
  for (const auto& r : all) fn(metadata::SnapshotRef{r.ns, r.info.name}, r.info.labels, r.info.parent);
  return Status::Ok();
}

Result<size_t> DirSnapshotter::Sweep(Tx& tx, const std::set<metadata::SnapshotRef>& live,
                                     metadata::AfterCommit& after_commit) {
  BERTH_ASSIGN_OR_RETURN(auto all, metastore::All(tx, name_));
  std::vector<metastore::Record> dead;
  for (auto& r : all) {
    if (!live.contains(metadata::SnapshotRef{r.ns, r.info.name})) dead.push_back(std::move(r));
  }
  for (const auto& r : dead) {
    BERTH_RETURN_IF_ERROR(metastore::RemoveById(tx, name_, r.id));
    BERTH_RETURN_IF_ERROR(DropLeaseResources(tx, name_, r.ns, r.info.name));
  }
  // Directories go once the records are committed (a crash in between leaves directories
  // without records, which Cleanup removes at the next start; never records without data).
  for (const auto& r : dead) {
    after_commit.push_back([this, id = r.id, ns = r.ns, key = r.info.name] {
      RemoveDir(id, ns, key);
      log::Info("gc removed snapshot", {{"snapshotter", name_}, {"namespace", ns}, {"key", key}, {"id", id}});
    });
  }
  return dead.size();
}

}  // namespace berth::snapshots
