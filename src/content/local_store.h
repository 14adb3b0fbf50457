// The on-disk content-addressed store (containerd's content/local), under one root:
//
//   <root>/blobs/<alg>/<hex>           committed blobs, read-only, named by their digest
//   <root>/ingest/<sha256(ref)>/       one unfinished write per ref:
//       data  ref  startedat  updatedat  [total]  [expected]
//
// Paths are only ever built from parsed digests and from hashes of refs. The store knows
// nothing of namespaces: metadata/content_store.h owns blobs per namespace over it, and the
// garbage collector removes files no namespace owns (Walk + Delete).
#pragma once

#include <cstdint>
#include <filesystem>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/status.h"
#include "common/digest.h"
#include "content/reader.h"
#include "content/ref_locks.h"
#include "content/types.h"
#include "content/writer.h"

namespace berth::content {

struct WriterOptions {
  std::string ref;               // required
  int64_t total = 0;             // announced size, 0 when unknown
  std::optional<Digest> expected;  // AlreadyExists up front when that blob is already here
  std::string algorithm = "sha256";  // hash to compute when no `expected` says otherwise
};

// Thread-safe: all methods may be called concurrently (the root is fixed, ref locks are behind a
// mutex, blobs appear by atomic rename); each Writer it hands out belongs to one caller.
class LocalStore {
 public:
  // Creates <root>/blobs and <root>/ingest as needed.
  static Result<std::unique_ptr<LocalStore>> Open(const std::filesystem::path& root);
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path BlobPath(const Digest& digest) const;
  std::filesystem::path IngestDir(std::string_view ref) const;

  // Blobs. NotFound "content <digest>" when absent.
  Result<BlobInfo> Info(const Digest& digest) const;
  Result<bool> Exists(const Digest& digest) const;
  Result<ReaderAt> Reader(const Digest& digest) const;
  Status Delete(const Digest& digest);
  // Every blob of a supported algorithm; stops at the first error `fn` returns.
  Status Walk(const std::function<Status(const BlobInfo&)>& fn) const;

  // Ingests. A second writer on a ref that has one gets Unavailable "ref <r> locked ...".
  // An existing ingest is resumed: its data is re-hashed and the writer's offset is its size
  // (an ingest whose ref or total does not match is started over, as containerd does).
  Result<std::unique_ptr<Writer>> OpenWriter(const WriterOptions& options);
  // NotFound when there is no ingest for `ref`.
  Result<IngestStatus> Ingest(std::string_view ref) const;
  // Every ingest whose status matches `filter` (field "ref"); null matches all.
  Result<std::vector<IngestStatus>> ListIngests(const filters::FilterPtr& filter = nullptr) const;
  // The ref of every ingest dir (for GC); unreadable dirs are skipped.
  Status WalkIngestRefs(const std::function<Status(const std::string& ref)>& fn) const;
  // Removes the ingest. NotFound "ingest ref <r>" when there is none. Waits (LockRef) for a
  // writer that is still closing; Unavailable when one stays open.
  Status Abort(std::string_view ref);
  // The ref's writer lock, waiting up to `wait` for a writer that is closing (its client has
  // half-closed the stream and moved on, while it still syncs and stamps the ingest).
  // Unavailable ("locked") when it is still held then. Take it before any DB transaction.
  Result<RefLock> LockRef(std::string_view ref, std::chrono::milliseconds wait = std::chrono::seconds(1));
  // Abort for a caller that holds the ref's lock.
  Status AbortLocked(std::string_view ref, const RefLock& held);
  bool IsLocked(std::string_view ref) const { return locks_.IsLocked(ref); }

 private:
  friend class Writer;
  explicit LocalStore(std::filesystem::path root) : root_(std::move(root)) {}
  Result<IngestStatus> IngestAt(const std::filesystem::path& dir) const;
  std::filesystem::path IngestRoot() const { return root_ / "ingest"; }
  std::filesystem::path BlobsRoot() const { return root_ / "blobs"; }

  std::filesystem::path root_;
  mutable RefLocks locks_;
};

}  // namespace berth::content
