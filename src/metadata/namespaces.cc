#include "metadata/namespaces.h"

#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/identifiers.h"
#include "common/timeutil.h"

namespace berth::metadata::namespaces {
namespace {

// Tables holding namespaced objects, with the word containerd uses for them in the
// "must be empty" error. Grows as stores are added (images, blobs, containers, snapshots).
struct NamespacedTable {
  std::string_view table;
  std::string_view kind;
};
// Leases and ingests are not listed: like containerd, they go with the namespace.
constexpr std::array<NamespacedTable, 3> kNamespacedTables{{
    {"images", "images"},
    {"blobs", "blobs"},
    {"containers", "containers"},
}};

int64_t Now() { return ToUnixNanos(Clock::now()); }

Status Insert(Tx& tx, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "INSERT INTO namespaces(name, created_at, updated_at) VALUES(?1, ?2, ?2)"));
  return st.Bind(1, name).Bind(2, Now()).Run();
}

Status Touch(Tx& tx, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("UPDATE namespaces SET updated_at=?2 WHERE name=?1"));
  return st.Bind(1, name).Bind(2, Now()).Run();
}

}  // namespace

Result<bool> Exists(Tx& tx, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT 1 FROM namespaces WHERE name=?1"));
  st.Bind(1, name);
  return st.Step();
}

Status Create(Tx& tx, std::string_view name, const labels::Labels& labels) {
  BERTH_RETURN_IF_ERROR(identifiers::Validate(name));
  for (const auto& [k, v] : labels) {
    BERTH_RETURN_IF_ERROR(labels::Validate(k, v).Wrap("namespace.Labels"));
  }
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, name));
  if (exists) return AlreadyExists("namespace {:?}", name);
  BERTH_RETURN_IF_ERROR(Insert(tx, name));
  for (const auto& [k, v] : labels) {
    if (v.empty()) continue;  // an empty value means "no label", as in SetLabel
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "INSERT INTO namespace_labels(namespace, key, value) VALUES(?1, ?2, ?3)"));
    BERTH_RETURN_IF_ERROR(st.Bind(1, name).Bind(2, k).Bind(3, v).Run());
  }
  return Status::Ok();
}

Status Ensure(Tx& tx, std::string_view name) {
  BERTH_RETURN_IF_ERROR(identifiers::Validate(name));
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, name));
  if (exists) return Status::Ok();
  return Insert(tx, name);
}

Result<labels::Labels> Labels(Tx& tx, std::string_view name) {
  labels::Labels out;
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "SELECT key, value FROM namespace_labels WHERE namespace=?1 ORDER BY key"));
  st.Bind(1, name);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace(st.ColumnText(0), st.ColumnText(1));
  }
  return out;
}

Status SetLabel(Tx& tx, std::string_view name, std::string_view key, std::string_view value) {
  BERTH_RETURN_IF_ERROR(labels::Validate(key, value).Wrap("namespace.Labels"));
  BERTH_RETURN_IF_ERROR(Ensure(tx, name));
  if (value.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "DELETE FROM namespace_labels WHERE namespace=?1 AND key=?2"));
    BERTH_RETURN_IF_ERROR(st.Bind(1, name).Bind(2, key).Run());
  } else {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        "INSERT INTO namespace_labels(namespace, key, value) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(namespace, key) DO UPDATE SET value=excluded.value"));
    BERTH_RETURN_IF_ERROR(st.Bind(1, name).Bind(2, key).Bind(3, value).Run());
  }
  return Touch(tx, name);
}

Result<std::vector<Namespace>> List(Tx& tx) {
  std::vector<Namespace> out;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT name FROM namespaces ORDER BY name"));
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(Namespace{st.ColumnText(0), {}});
    }
  }
  for (auto& ns : out) {
    BERTH_ASSIGN_OR_RETURN(ns.labels, Labels(tx, ns.name));
  }
  return out;
}

Result<std::vector<std::string>> Contents(Tx& tx, std::string_view name) {
  std::vector<std::string> kinds;
  for (const auto& t : kNamespacedTables) {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        fmt::format("SELECT 1 FROM {} WHERE namespace=?1 LIMIT 1", t.table)));
    st.Bind(1, name);
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) kinds.emplace_back(t.kind);
  }
  // Snapshots are named per snapshotter, as containerd does: `snapshots on "overlayfs" snapshotter`.
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "SELECT DISTINCT snapshotter FROM snapshots WHERE namespace=?1 ORDER BY snapshotter"));
  st.Bind(1, name);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    kinds.push_back(fmt::format("snapshots on {:?} snapshotter", st.ColumnText(0)));
  }
  return kinds;
}

Status Delete(Tx& tx, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN(auto kinds, Contents(tx, name));
  if (!kinds.empty()) {
    return FailedPrecondition("namespace {:?} must be empty, but it still has {}", name,
                              fmt::join(kinds, ", "));
  }
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("DELETE FROM namespaces WHERE name=?1"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, name).Run());
  if (tx.Changes() == 0) return NotFound("namespace {:?}", name);
  return Status::Ok();
}

}  // namespace berth::metadata::namespaces
