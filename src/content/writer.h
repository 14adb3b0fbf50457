// One ingest being written: appends at the current offset, hashing as it goes; commit checks
// size and digest, then moves the data into blobs/. Holds the ref's lock for its lifetime.
//
// Commit is two steps so that a caller can make the second one atomic with its own
// bookkeeping (the metadata DB inserts the blob row in the same transaction as the rename):
//   Verify(size, expected)  fsync + checks; the slow part, outside any transaction
//   Install()               rename into blobs/ (AlreadyExists when already there)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/timeutil.h"
#include "common/digest.h"
#include "content/ref_locks.h"
#include "content/types.h"
#include "common/unique_fd.h"

namespace berth::content {

class LocalStore;

// Not thread-safe: one caller at a time (the one that opened it; one writer per ref).
class Writer {
 public:
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  const std::string& ref() const { return ref_; }
  int64_t offset() const { return offset_; }
  int64_t total() const { return total_; }
  IngestStatus Progress() const;
  // Digest of the bytes written so far.
  Digest CurrentDigest() const;

  // Appends at the current offset. (The offset rules of the Write protocol, containerd's
  // "write @x must occur at current offset y" and restart-at-0, are the caller's: see
  // services/content_service.cc.)
  Status Write(std::string_view data);
  // Only 0 is supported (containerd's local writer): starts the ingest over.
  Status Truncate(int64_t size);

  struct Verified {
    Digest digest;
    int64_t size = 0;
  };
  // Syncs the data and checks it: FailedPrecondition "unexpected commit size A, expected B"
  // when `size` > 0 differs from what was written, "unexpected commit digest A, expected B"
  // when `expected` differs. A digest of another algorithm than the writer's is checked by
  // re-hashing the data with that algorithm. On failure the writer is closed (the ingest
  // stays, so it can be resumed or aborted).
  Result<Verified> Verify(int64_t size, const std::optional<Digest>& expected);
  // After Verify: renames the data to blobs/<alg>/<hex> (read-only, mtime = commit time) and
  // removes the ingest. AlreadyExists "content <digest>" when the blob is already there (the
  // ingest is removed too). The writer is finished either way.
  Status Install();
  // Verify + Install.
  Status Commit(int64_t size, const std::optional<Digest>& expected);

  // Leaves the progress in place for a later writer on the same ref: syncs, records the
  // update time, releases the lock. Idempotent; the destructor does it.
  Status Close();
  bool closed() const { return !fd_.valid() && !verified_; }

 private:
  friend class LocalStore;
  Writer(const LocalStore& store, std::string ref, std::filesystem::path dir, UniqueFd fd,
         RefLock lock, Hasher hasher, int64_t offset, int64_t total, std::string expected,
         TimePoint started_at, TimePoint updated_at);
  void Finish();  // releases everything without touching the ingest

  const LocalStore& store_;
  std::string ref_;
  std::filesystem::path dir_;
  UniqueFd fd_;
  RefLock lock_;
  Hasher hasher_;
  int64_t offset_;
  int64_t total_;
  std::string expected_;
  TimePoint started_at_;
  TimePoint updated_at_;
  std::optional<Verified> verified_;
};

}  // namespace berth::content
