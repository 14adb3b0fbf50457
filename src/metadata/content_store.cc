#include "metadata/content_store.h"

#include "common/logging.h"
#include "content/ingest_filter.h"
#include "metadata/lease_resources.h"
#include "metadata/namespaces.h"

namespace berth::metadata {

Result<ContentInfo> ContentStore::Info(const ContentScope& scope, const Digest& digest) {
  ContentInfo out;
  Status done = db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(out, content_meta::Get(tx, scope.ns, digest.String()));
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return out;
}

Result<std::vector<ContentInfo>> ContentStore::List(const ContentScope& scope,
                                                    const filters::FilterPtr& filter) {
  std::vector<ContentInfo> out;
  Status done = db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(out, content_meta::List(tx, scope.ns, filter));
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return out;
}

Result<ContentInfo> ContentStore::Update(const ContentScope& scope, const Digest& digest,
                                         const labels::Labels& labels,
                                         const std::vector<std::string>& paths) {
  ContentInfo out;
  Status done = db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(out, content_meta::Update(tx, scope.ns, digest.String(), labels, paths));
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return out;
}

Status ContentStore::Delete(const ContentScope& scope, const Digest& digest) {
  Status done = db_.Update([&](Tx& tx) -> Status {
    BERTH_RETURN_IF_ERROR(content_meta::Delete(tx, scope.ns, digest.String()));
    if (scope.lease) {
      return lease_resources::Remove(tx, scope.ns, *scope.lease, lease_resources::kContent, digest.String());
    }
    return Status::Ok();
  });
  if (!done.ok()) return done;
  log::Info("content deleted", {{"namespace", scope.ns}, {"digest", digest.String()}});
  return Status::Ok();
}

Result<content::ReaderAt> ContentStore::Reader(const ContentScope& scope, const Digest& digest) {
  Status done = db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(bool owned, content_meta::Owns(tx, scope.ns, digest.String()));
    if (!owned) return NotFound("content digest {}", digest.String());
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return store_.Reader(digest);
}

Result<content::IngestStatus> ContentStore::Ingest(const ContentScope& scope, const std::string& ref) {
  std::optional<IngestRecord> record;
  Status done = db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(record, content_meta::GetIngest(tx, scope.ns, ref));
    return Status::Ok();
  });
  if (!done.ok()) return done;
  if (!record) return NotFound("reference {}", ref);
  BERTH_ASSIGN_OR_RETURN(content::IngestStatus st, store_.Ingest(content_meta::IngestKey(scope.ns, ref)));
  st.ref = ref;
  return st;
}

Result<std::vector<content::IngestStatus>> ContentStore::ListIngests(const ContentScope& scope,
                                                                     const filters::FilterPtr& filter) {
  std::vector<IngestRecord> records;
  Status done = db_.View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(records, content_meta::ListIngests(tx, scope.ns));
    return Status::Ok();
  });
  if (!done.ok()) return done;
  std::vector<content::IngestStatus> out;
  for (const auto& record : records) {
    auto st = store_.Ingest(content_meta::IngestKey(scope.ns, record.ref));
    if (!st.ok()) {
      if (st.status().Is(Errc::kNotFound)) continue;  // shared, or not written yet
      return st.status();
    }
    st->ref = record.ref;
    if (!content::IngestMatches(filter, *st)) continue;
    out.push_back(std::move(*st));
  }
  return out;
}

Status ContentStore::Abort(const ContentScope& scope, const std::string& ref) {
  // The writer lock first, outside the transaction: waiting for a closing writer must not hold
  // the database (the writer may need it to finish).
  const std::string key = content_meta::IngestKey(scope.ns, ref);
  BERTH_ASSIGN_OR_RETURN(content::RefLock lock, store_.LockRef(key));
  Status done = db_.Update([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto record, content_meta::GetIngest(tx, scope.ns, ref));
    if (!record) return NotFound("reference {}", ref);
    BERTH_RETURN_IF_ERROR(content_meta::DeleteIngest(tx, scope.ns, ref));
    if (scope.lease) {
      BERTH_RETURN_IF_ERROR(lease_resources::Remove(tx, scope.ns, *scope.lease, lease_resources::kIngests, ref));
    }
    if (!record->expected.empty()) return Status::Ok();  // shared: nothing on disk
    Status st = store_.AbortLocked(key, lock);
    if (st.Is(Errc::kNotFound)) return Status::Ok();
    return st;
  });
  if (!done.ok()) return done;
  log::Info("ingest aborted", {{"namespace", scope.ns}, {"ref", ref}});
  return Status::Ok();
}

Result<std::unique_ptr<ContentWriter>> ContentStore::OpenWriter(const ContentScope& scope,
                                                                const std::string& ref, int64_t total,
                                                                const std::optional<Digest>& expected) {
  if (ref.empty()) return InvalidArgument("ref must not be empty");
  bool exists = false;
  std::optional<Digest> shared;
  Status done = db_.Update([&](Tx& tx) -> Status {
    BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, scope.ns));
    if (expected) {
      BERTH_ASSIGN_OR_RETURN(bool owned, content_meta::Owns(tx, scope.ns, expected->String()));
      if (owned) {
        exists = true;
        if (!scope.lease) return Status::Ok();
        Status add = lease_resources::Add(tx, scope.ns, *scope.lease, lease_resources::kContent, expected->String());
        return add.ok() ? add : add.Wrap("unable to lease content");
      }
      // On disk already (another namespace's): share it when the sizes agree.
      auto info = store_.Info(*expected);
      if (info.ok() && (total == 0 || total == info->size)) {
        shared = *expected;
        total = info->size;
      } else if (!info.ok() && !info.status().Is(Errc::kNotFound)) {
        return info.status();
      }
    }
    BERTH_RETURN_IF_ERROR(content_meta::PutIngest(tx, scope.ns, ref, shared ? shared->String() : ""));
    if (scope.lease) {
      BERTH_RETURN_IF_ERROR(lease_resources::Add(tx, scope.ns, *scope.lease, lease_resources::kIngests, ref));
    }
    return Status::Ok();
  });
  if (!done.ok()) return done;
  if (exists) return AlreadyExists("content {}", expected->String());

  std::unique_ptr<content::Writer> writer;
  if (!shared) {
    // Opened outside the transaction: resuming re-hashes what the ingest holds, which must
    // not hold up every other metadata operation.
    BERTH_ASSIGN_OR_RETURN(writer, store_.OpenWriter(content::WriterOptions{
        .ref = content_meta::IngestKey(scope.ns, ref), .total = total, .expected = std::nullopt,
        .algorithm = expected ? expected->algorithm : "sha256"}));
  }
  log::Debug("content writer opened", {{"namespace", scope.ns}, {"ref", ref}, {"total", total},
                                       {"shared", shared ? "true" : "false"}});
  return std::unique_ptr<ContentWriter>(new ContentWriter(db_, store_, scope.ns, scope.lease, ref,
                                                          std::move(writer), total, shared));
}

}  // namespace berth::metadata
