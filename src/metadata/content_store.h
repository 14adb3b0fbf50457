// The namespaced content store (containerd's metadata.contentStore): the on-disk CAS
// (content::LocalStore) seen through per-namespace ownership in the metadata DB.
//
// - A namespace sees only blobs it owns; a blob is on disk once whatever the namespaces.
// - Writing a blob that is already on disk (committed by another namespace), with its digest
//   announced up front, copies no data ("shared" content): the ingest only records what it
//   becomes, its status reports the blob's size as written, and the commit just adds the
//   ownership row.
// - Resources created under a lease (`containerd-lease`) join it: the ingest ref while the
//   write is open, the digest once committed. A lease that does not exist is NotFound.
// - Commit renames into blobs/ and inserts the ownership row in one Db::Update, so it never
//   interleaves with the garbage collector's file sweep (also one Db::Update).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/filters.h"
#include "common/labels.h"
#include "common/status.h"
#include "common/digest.h"
#include "content/local_store.h"
#include "metadata/content_meta.h"
#include "metadata/content_writer.h"
#include "metadata/db.h"

namespace berth::metadata {

// Who asks: the namespace (required, valid) and the lease the request works under.
struct ContentScope {
  std::string ns;
  std::optional<std::string> lease;
};

// Thread-safe: all methods may be called concurrently (no state of its own beyond the Db and the
// LocalStore, both thread-safe); each ContentWriter it hands out belongs to one caller.
class ContentStore {
 public:
  ContentStore(Db& db, content::LocalStore& store) : db_(db), store_(store) {}
  ContentStore(const ContentStore&) = delete;
  ContentStore& operator=(const ContentStore&) = delete;

  content::LocalStore& local() { return store_; }

  // NotFound "content digest <d>" when the namespace does not own the blob.
  Result<ContentInfo> Info(const ContentScope& scope, const Digest& digest);
  Result<std::vector<ContentInfo>> List(const ContentScope& scope, const filters::FilterPtr& filter);
  Result<ContentInfo> Update(const ContentScope& scope, const Digest& digest,
                             const labels::Labels& labels, const std::vector<std::string>& paths);
  // Drops the namespace's ownership (and the blob from the scope's lease).
  Status Delete(const ContentScope& scope, const Digest& digest);
  Result<content::ReaderAt> Reader(const ContentScope& scope, const Digest& digest);

  // Ingests of the namespace. NotFound "reference <r>" when it has no such ingest.
  Result<content::IngestStatus> Ingest(const ContentScope& scope, const std::string& ref);
  // Ingests with data on disk matching `filter` (field "ref"); null matches all.
  Result<std::vector<content::IngestStatus>> ListIngests(const ContentScope& scope,
                                                         const filters::FilterPtr& filter);
  Status Abort(const ContentScope& scope, const std::string& ref);

  // Opens a writer for `ref` (InvalidArgument when empty). AlreadyExists "content <d>" when
  // the namespace already owns `expected` (the blob then joins the scope's lease);
  // Unavailable while another writer holds the ref.
  Result<std::unique_ptr<ContentWriter>> OpenWriter(const ContentScope& scope, const std::string& ref,
                                                    int64_t total,
                                                    const std::optional<Digest>& expected);

 private:
  Db& db_;
  content::LocalStore& store_;
};

}  // namespace berth::metadata
