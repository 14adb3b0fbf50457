#include "snapshots/metastore.h"

#include <utility>

#include "metadata/namespaces.h"

namespace berth::snapshots::metastore {
namespace {

using metadata::Stmt;
using metadata::Tx;

constexpr std::string_view kColumns =
    "namespace, key, id, kind, parent, size, inodes, created_at, updated_at";

int64_t Now() { return ToUnixNanos(Clock::now()); }

Record ReadRow(const Stmt& st) {
  Record r;
  r.ns = st.ColumnText(0);
  r.info.name = st.ColumnText(1);
  r.id = st.ColumnInt(2);
  r.info.kind = static_cast<Kind>(st.ColumnInt(3));
  r.info.parent = st.ColumnText(4);
  r.usage.size = st.ColumnInt(5);
  r.usage.inodes = st.ColumnInt(6);
  r.info.created_at = FromUnixNanos(st.ColumnInt(7));
  r.info.updated_at = FromUnixNanos(st.ColumnInt(8));
  return r;
}

Result<labels::Labels> ReadLabels(Tx& tx, std::string_view snapshotter, int64_t id) {
  labels::Labels out;
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "SELECT key, value FROM snapshot_labels WHERE snapshotter=?1 AND id=?2"));
  st.Bind(1, snapshotter).Bind(2, id);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace(st.ColumnText(0), st.ColumnText(1));
  }
  return out;
}

Status WriteLabels(Tx& tx, std::string_view snapshotter, int64_t id, const labels::Labels& labels) {
  {
    BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare("DELETE FROM snapshot_labels WHERE snapshotter=?1 AND id=?2"));
    BERTH_RETURN_IF_ERROR(del.Bind(1, snapshotter).Bind(2, id).Run());
  }
  for (const auto& [k, v] : labels) {
    if (v.empty()) continue;  // an empty value means "no such label"
    BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(
        "INSERT INTO snapshot_labels(snapshotter, id, key, value) VALUES(?1, ?2, ?3, ?4)"));
    BERTH_RETURN_IF_ERROR(ins.Bind(1, snapshotter).Bind(2, id).Bind(3, k).Bind(4, v).Run());
  }
  return Status::Ok();
}

// Rows of a query whose columns are kColumns; labels read afterwards (one statement at a
// time per cached SQL).
Result<std::vector<Record>> Query(Tx& tx, std::string_view snapshotter, Stmt& st) {
  std::vector<Record> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadRow(st));
  }
  for (auto& r : out) {
    BERTH_ASSIGN_OR_RETURN(r.info.labels, ReadLabels(tx, snapshotter, r.id));
  }
  return out;
}

Result<std::optional<Record>> Find(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key) {
  std::optional<Record> out;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
        "SELECT {} FROM snapshots WHERE namespace=?1 AND snapshotter=?2 AND key=?3", kColumns)));
    st.Bind(1, ns).Bind(2, snapshotter).Bind(3, key);
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out = ReadRow(st);
  }
  BERTH_ASSIGN_OR_RETURN(out->info.labels, ReadLabels(tx, snapshotter, out->id));
  return out;
}

Status ValidateLabels(const labels::Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (k.empty()) return InvalidArgument("info.Labels: label key must not be empty");
    BERTH_RETURN_IF_ERROR(labels::Validate(k, v).Wrap("info.Labels"));
  }
  return Status::Ok();
}

Status Touch(Tx& tx, std::string_view snapshotter, int64_t id, int64_t now) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("UPDATE snapshots SET updated_at=?3 WHERE snapshotter=?1 AND id=?2"));
  return st.Bind(1, snapshotter).Bind(2, id).Bind(3, now).Run();
}

}  // namespace

filters::FuncAdaptor Adapt(const Info& info) {
  return filters::FuncAdaptor([&info](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    const std::string& field = path[0];
    if (field == "kind") {
      if (info.kind == Kind::kUnknown) return std::nullopt;
      return std::string(KindName(info.kind));
    }
    if (field == "name") return filters::StringField(info.name);
    if (field == "parent") return filters::StringField(info.parent);
    if (field == "labels") return filters::LabelField(info.labels, filters::Rest(path));
    return std::nullopt;
  });
}

Result<Record> Get(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key) {
  BERTH_ASSIGN_OR_RETURN(auto found, Find(tx, snapshotter, ns, key));
  if (!found) return NotFound("snapshot {} does not exist", key);
  return std::move(*found);
}

Result<std::vector<int64_t>> ParentChain(Tx& tx, std::string_view snapshotter, std::string_view ns,
                                         std::string_view parent) {
  std::vector<int64_t> ids;
  std::string next(parent);
  while (!next.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "SELECT id, parent FROM snapshots WHERE namespace=?1 AND snapshotter=?2 AND key=?3"));
    st.Bind(1, ns).Bind(2, snapshotter).Bind(3, next);
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("missing parent {:?} in the chain of {:?}", next, parent);
    ids.push_back(st.ColumnInt(0));
    next = st.ColumnText(1);
    if (ids.size() > 100000) return Internal("snapshot {:?}: parent chain loops", parent);
  }
  return ids;
}

Result<std::vector<int64_t>> CheckCreate(Tx& tx, std::string_view snapshotter, std::string_view ns,
                                         std::string_view key, std::string_view parent,
                                         const labels::Labels& labels) {
  if (key.empty()) return InvalidArgument("snapshot key must not be empty");
  BERTH_RETURN_IF_ERROR(ValidateLabels(labels));
  if (auto t = labels.find(std::string(kLabelSnapshotRef)); t != labels.end() && !t->second.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto target, Find(tx, snapshotter, ns, t->second));
    if (target) return AlreadyExists("target snapshot {:?}", t->second);
  }
  {
    BERTH_ASSIGN_OR_RETURN(auto taken, Find(tx, snapshotter, ns, key));
    if (taken) return AlreadyExists("snapshot {:?}", key);
  }
  if (parent.empty()) return std::vector<int64_t>{};
  BERTH_ASSIGN_OR_RETURN(auto p, Find(tx, snapshotter, ns, parent));
  if (!p) return NotFound("parent snapshot {} does not exist", parent);
  if (p->info.kind != Kind::kCommitted) return InvalidArgument("parent {:?} is not committed snapshot", parent);
  return ParentChain(tx, snapshotter, ns, parent);
}

Result<int64_t> NextId(Tx& tx, std::string_view snapshotter) {
  {
    BERTH_ASSIGN_OR_RETURN(auto up, tx.Prepare(
        "INSERT INTO snapshot_sequences(snapshotter, last_id) VALUES(?1, 1) "
        "ON CONFLICT(snapshotter) DO UPDATE SET last_id=last_id+1"));
    BERTH_RETURN_IF_ERROR(up.Bind(1, snapshotter).Run());
  }
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT last_id FROM snapshot_sequences WHERE snapshotter=?1"));
  st.Bind(1, snapshotter);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Internal("snapshotter {:?}: no id sequence", snapshotter);
  return st.ColumnInt(0);
}

Result<Record> Insert(Tx& tx, std::string_view snapshotter, std::string_view ns, int64_t id, Kind kind,
                      std::string_view key, std::string_view parent, labels::Labels labels) {
  if (kind != Kind::kActive && kind != Kind::kView) {
    return InvalidArgument("snapshot type {} invalid; only snapshots of type Active or View can be created",
                           KindName(kind));
  }
  BERTH_ASSIGN_OR_RETURN(auto chain, CheckCreate(tx, snapshotter, ns, key, parent, labels));
  (void)chain;
  BERTH_RETURN_IF_ERROR(metadata::namespaces::Ensure(tx, ns));
  int64_t now = Now();
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "INSERT INTO snapshots(namespace, snapshotter, key, id, kind, parent, created_at, updated_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"));
    st.Bind(1, ns).Bind(2, snapshotter).Bind(3, key).Bind(4, id).Bind(5, static_cast<int64_t>(kind));
    BERTH_RETURN_IF_ERROR(st.Bind(6, parent).Bind(7, now).Run());
  }
  std::erase_if(labels, [](const auto& kv) { return kv.second.empty(); });
  BERTH_RETURN_IF_ERROR(WriteLabels(tx, snapshotter, id, labels));
  Record r;
  r.ns = std::string(ns);
  r.id = id;
  r.info = Info{std::string(key), std::string(parent), kind, std::move(labels), FromUnixNanos(now), FromUnixNanos(now)};
  return r;
}

Result<Record> CheckCommit(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view name,
                           std::string_view key, const labels::Labels& labels) {
  if (name.empty()) return InvalidArgument("snapshot name must not be empty");
  BERTH_RETURN_IF_ERROR(ValidateLabels(labels));
  {
    BERTH_ASSIGN_OR_RETURN(auto taken, Find(tx, snapshotter, ns, name));
    if (taken) return AlreadyExists("snapshot {:?}", name);
  }
  BERTH_ASSIGN_OR_RETURN(auto active, Get(tx, snapshotter, ns, key));
  if (active.info.kind != Kind::kActive) return FailedPrecondition("snapshot {:?} is not active", key);
  return active;
}

Result<Record> Commit(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view name,
                      std::string_view key, labels::Labels labels, DiskUsage usage) {
  BERTH_ASSIGN_OR_RETURN(Record r, CheckCommit(tx, snapshotter, ns, name, key, labels));
  int64_t now = Now();
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "UPDATE snapshots SET key=?3, kind=?4, size=?5, inodes=?6, created_at=?7, updated_at=?7 "
        "WHERE snapshotter=?1 AND id=?2"));
    st.Bind(1, snapshotter).Bind(2, r.id).Bind(3, name).Bind(4, static_cast<int64_t>(Kind::kCommitted));
    BERTH_RETURN_IF_ERROR(st.Bind(5, usage.size).Bind(6, usage.inodes).Bind(7, now).Run());
  }
  std::erase_if(labels, [](const auto& kv) { return kv.second.empty(); });
  BERTH_RETURN_IF_ERROR(WriteLabels(tx, snapshotter, r.id, labels));
  r.info.name = std::string(name);
  r.info.kind = Kind::kCommitted;
  r.info.labels = std::move(labels);
  r.info.created_at = r.info.updated_at = FromUnixNanos(now);
  r.usage = usage;
  return r;
}

Result<Record> Remove(Tx& tx, std::string_view snapshotter, std::string_view ns, std::string_view key) {
  BERTH_ASSIGN_OR_RETURN(Record r, Get(tx, snapshotter, ns, key));
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "SELECT 1 FROM snapshots WHERE namespace=?1 AND snapshotter=?2 AND parent=?3 LIMIT 1"));
    st.Bind(1, ns).Bind(2, snapshotter).Bind(3, key);
    BERTH_ASSIGN_OR_RETURN(bool child, st.Step());
    if (child) return FailedPrecondition("cannot remove snapshot with child");
  }
  BERTH_RETURN_IF_ERROR(RemoveById(tx, snapshotter, r.id));
  return r;
}

Status RemoveById(Tx& tx, std::string_view snapshotter, int64_t id) {
  // Labels go with the row (ON DELETE CASCADE).
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("DELETE FROM snapshots WHERE snapshotter=?1 AND id=?2"));
  return st.Bind(1, snapshotter).Bind(2, id).Run();
}

Result<Record> UpdateLabels(Tx& tx, std::string_view snapshotter, std::string_view ns, const Info& info,
                            const std::vector<std::string>& paths) {
  if (info.name.empty()) return InvalidArgument("snapshot name is required for update");
  BERTH_ASSIGN_OR_RETURN(Record r, Get(tx, snapshotter, ns, info.name));
  if (paths.empty()) {
    r.info.labels = info.labels;
  } else {
    for (const auto& path : paths) {
      if (path.starts_with("labels.")) {
        std::string key = path.substr(7);
        auto it = info.labels.find(key);
        r.info.labels[key] = it == info.labels.end() ? "" : it->second;
      } else if (path == "labels") {
        r.info.labels = info.labels;
      } else {
        return InvalidArgument("cannot update {:?} field on snapshot {:?}", path, info.name);
      }
    }
  }
  std::erase_if(r.info.labels, [](const auto& kv) { return kv.second.empty(); });
  BERTH_RETURN_IF_ERROR(ValidateLabels(r.info.labels));
  int64_t now = Now();
  BERTH_RETURN_IF_ERROR(WriteLabels(tx, snapshotter, r.id, r.info.labels));
  BERTH_RETURN_IF_ERROR(Touch(tx, snapshotter, r.id, now));
  r.info.updated_at = FromUnixNanos(now);
  return r;
}

Result<std::vector<Record>> List(Tx& tx, std::string_view snapshotter, std::string_view ns) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
      "SELECT {} FROM snapshots WHERE namespace=?1 AND snapshotter=?2 ORDER BY key", kColumns)));
  st.Bind(1, ns).Bind(2, snapshotter);
  return Query(tx, snapshotter, st);
}

Result<std::vector<Record>> All(Tx& tx, std::string_view snapshotter) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
      "SELECT {} FROM snapshots WHERE snapshotter=?1 ORDER BY namespace, key", kColumns)));
  st.Bind(1, snapshotter);
  return Query(tx, snapshotter, st);
}

Result<std::set<int64_t>> Ids(Tx& tx, std::string_view snapshotter) {
  std::set<int64_t> out;
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT id FROM snapshots WHERE snapshotter=?1"));
  st.Bind(1, snapshotter);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.insert(st.ColumnInt(0));
  }
  return out;
}

}  // namespace berth::snapshots::metastore
