#include "metadata/content_meta.h"

#include "common/timeutil.h"
#include "metadata/label_rows.h"
#include "metadata/namespaces.h"

namespace berth::metadata::content_meta {
namespace {

constexpr label_rows::Table kBlobLabels{"blob_labels", "digest"};

int64_t Now() { return ToUnixNanos(Clock::now()); }

Status NotOwned(std::string_view digest) { return NotFound("content digest {}", digest); }

}  // namespace

std::string IngestKey(std::string_view ns, std::string_view ref) {
  std::string key(ns);
  key += '/';
  key += ref;
  return key;
}

Result<bool> Owns(Tx& tx, std::string_view ns, std::string_view digest) {
  BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT 1 FROM blobs WHERE namespace=?1 AND digest=?2"));
  q.Bind(1, ns).Bind(2, digest);
  return q.Step();
}

Result<ContentInfo> Get(Tx& tx, std::string_view ns, std::string_view digest) {
  ContentInfo info;
  {
    BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
        "SELECT size, created_at, updated_at FROM blobs WHERE namespace=?1 AND digest=?2"));
    q.Bind(1, ns).Bind(2, digest);
    BERTH_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return NotOwned(digest);
    info.digest = std::string(digest);
    info.size = q.ColumnInt(0);
    info.created_at = q.ColumnInt(1);
    info.updated_at = q.ColumnInt(2);
  }
  BERTH_ASSIGN_OR_RETURN(info.labels, label_rows::Read(tx, kBlobLabels, ns, digest));
  return info;
}

Result<std::vector<ContentInfo>> List(Tx& tx, std::string_view ns, const filters::FilterPtr& filter) {
  std::vector<ContentInfo> all;
  {
    BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
        "SELECT digest, size, created_at, updated_at FROM blobs WHERE namespace=?1 ORDER BY digest"));
    q.Bind(1, ns);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      all.push_back(ContentInfo{q.ColumnText(0), q.ColumnInt(1), q.ColumnInt(2), q.ColumnInt(3), {}});
    }
  }
  {
    // All labels of the namespace in one pass rather than a query per blob.
    BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
        "SELECT digest, key, value FROM blob_labels WHERE namespace=?1 ORDER BY digest"));
    q.Bind(1, ns);
    size_t i = 0;
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      std::string digest = q.ColumnText(0);
      while (i < all.size() && all[i].digest < digest) ++i;
      if (i < all.size() && all[i].digest == digest) all[i].labels.emplace(q.ColumnText(1), q.ColumnText(2));
    }
  }
  if (!filter) return all;
  std::vector<ContentInfo> out;
  for (auto& info : all) {
    filters::FuncAdaptor adaptor([&](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "digest") return info.digest;
      if (path[0] == "labels") return filters::LabelField(info.labels, filters::Rest(path));
      return std::nullopt;  // "size" included, as containerd's AdaptInfo
    });
    if (filter->Match(adaptor)) out.push_back(std::move(info));
  }
  return out;
}

Status Insert(Tx& tx, std::string_view ns, std::string_view digest, int64_t size,
              const labels::Labels& labels) {
  BERTH_RETURN_IF_ERROR(labels::ValidateAll(labels).Wrap("info.Labels"));
  BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
  BERTH_ASSIGN_OR_RETURN(bool owned, Owns(tx, ns, digest));
  if (owned) return AlreadyExists("content {}", digest);
  const int64_t now = Now();
  BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(
      "INSERT INTO blobs(namespace, digest, size, created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?4)"));
  BERTH_RETURN_IF_ERROR(ins.Bind(1, ns).Bind(2, digest).Bind(3, size).Bind(4, now).Run());
  return label_rows::Write(tx, kBlobLabels, ns, digest, labels);
}

Result<ContentInfo> Update(Tx& tx, std::string_view ns, std::string_view digest,
                           const labels::Labels& labels, const std::vector<std::string>& paths) {
  BERTH_ASSIGN_OR_RETURN(ContentInfo info, Get(tx, ns, digest));
  if (paths.empty()) {
    info.labels = labels;
  } else {
    for (const auto& path : paths) {
      if (path.starts_with("labels.")) {
        std::string key = path.substr(7);
        auto it = labels.find(key);
        info.labels[key] = it == labels.end() ? "" : it->second;  // empty: dropped below
      } else if (path == "labels") {
        info.labels = labels;
      } else {
        return InvalidArgument("cannot update {:?} field on content info {:?}", path, digest);
      }
    }
  }
  label_rows::DropEmpty(info.labels);
  BERTH_RETURN_IF_ERROR(labels::ValidateAll(info.labels).Wrap("info.Labels"));
  info.updated_at = Now();
  BERTH_ASSIGN_OR_RETURN(auto upd, tx.Prepare("UPDATE blobs SET updated_at=?3 WHERE namespace=?1 AND digest=?2"));
  BERTH_RETURN_IF_ERROR(upd.Bind(1, ns).Bind(2, digest).Bind(3, info.updated_at).Run());
  BERTH_RETURN_IF_ERROR(label_rows::Write(tx, kBlobLabels, ns, digest, info.labels));
  return info;
}

Status Delete(Tx& tx, std::string_view ns, std::string_view digest) {
  BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare("DELETE FROM blobs WHERE namespace=?1 AND digest=?2"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, ns).Bind(2, digest).Run());
  if (tx.Changes() == 0) return NotOwned(digest);
  return Status::Ok();
}

Status PutIngest(Tx& tx, std::string_view ns, std::string_view ref, std::string_view expected) {
  BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "INSERT INTO ingests(namespace, ref, expected, created_at) VALUES(?1, ?2, ?3, ?4) "
      "ON CONFLICT(namespace, ref) DO UPDATE SET expected=excluded.expected"));
  return st.Bind(1, ns).Bind(2, ref).Bind(3, expected).Bind(4, Now()).Run();
}

Result<std::optional<IngestRecord>> GetIngest(Tx& tx, std::string_view ns, std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
      "SELECT expected, created_at FROM ingests WHERE namespace=?1 AND ref=?2"));
  q.Bind(1, ns).Bind(2, ref);
  BERTH_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::optional<IngestRecord>();
  return std::optional<IngestRecord>(IngestRecord{std::string(ref), q.ColumnText(0), q.ColumnInt(1)});
}

Result<std::vector<IngestRecord>> ListIngests(Tx& tx, std::string_view ns) {
  std::vector<IngestRecord> out;
  BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
      "SELECT ref, expected, created_at FROM ingests WHERE namespace=?1 ORDER BY ref"));
  q.Bind(1, ns);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(IngestRecord{q.ColumnText(0), q.ColumnText(1), q.ColumnInt(2)});
  }
  return out;
}

Status DeleteIngest(Tx& tx, std::string_view ns, std::string_view ref) {
  BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare("DELETE FROM ingests WHERE namespace=?1 AND ref=?2"));
  return del.Bind(1, ns).Bind(2, ref).Run();
}

}  // namespace berth::metadata::content_meta
