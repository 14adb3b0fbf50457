// A namespaced write (containerd's namespacedWriter): either a real ingest on disk, or — for a
// blob already on disk whose digest was announced — a "shared" write that copies nothing and
// commits by adding the namespace's ownership row. Writing data or truncating a shared write
// turns it into a real one (seeded with the existing blob), as containerd does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "common/status.h"
#include "common/timeutil.h"
#include "common/digest.h"
#include "content/local_store.h"
#include "content/types.h"
#include "metadata/db.h"

namespace berth::metadata {

// Not thread-safe: used by the one thread that opened it (a Write stream, the differ, store_blob).
class ContentWriter {
 public:
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  const std::string& ref() const { return ref_; }
  bool shared() const { return writer_ == nullptr; }
  // Progress; a shared write reports the blob as fully written.
  content::IngestStatus Progress() const;
  // Digest of what is written so far (the blob's for a shared write).
  Digest CurrentDigest() const;

  Status Write(std::string_view data);
  Status Truncate(int64_t size);
  // Verifies and commits: FailedPrecondition "<ref> failed size validation: A != B" when
  // `size` > 0 differs from what was written, then the store's size/digest checks; AlreadyExists
  // "content <d>" when the namespace already owns the result (the ingest is gone either way).
  // On success the result is owned by the namespace, with `labels`, and is in the scope's lease.
  Status Commit(int64_t size, const std::optional<Digest>& expected,
                const labels::Labels& labels);
  // The digest and size of the last successful (or AlreadyExists) commit.
  const Digest& committed() const { return committed_; }
  // Leaves the ingest for a later writer. Idempotent.
  Status Close();

 private:
  friend class ContentStore;
  ContentWriter(Db& db, content::LocalStore& store, std::string ns, std::optional<std::string> lease,
                std::string ref, std::unique_ptr<content::Writer> writer, int64_t total,
                std::optional<Digest> blob);
  // Turns a shared write into a real ingest, copying the first `copy` bytes of the blob.
  Status Materialise(int64_t copy);
  // The DB half of a commit, shared by both kinds of write; runs inside Db::Update.
  Status Record(Tx& tx, const Digest& digest, int64_t size, const labels::Labels& labels,
                Status* inner);

  Db& db_;
  content::LocalStore& store_;
  std::string ns_;
  std::optional<std::string> lease_;
  std::string ref_;
  std::unique_ptr<content::Writer> writer_;  // null while shared
  int64_t total_;
  std::optional<Digest> blob_;  // shared: the existing blob
  TimePoint started_;
  Digest committed_;
  bool finished_ = false;
};

}  // namespace berth::metadata
