// Streaming access to the content store, for transfers that are not an istream/ostream: a
// writer that says where an open ingest stands before the first byte (so a registry download
// can resume with a Range request), and a pull-style reader (for uploads to a registry).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "client/client.h"

namespace berth::client {

// One ingest's Write stream. Open takes the ingest `ref` (resuming it when it exists);
// offset() is how many bytes it holds already. Writes append; Commit verifies size and digest
// and makes the blob. Destroying an uncommitted writer keeps the ingest for a later resume.
// Not thread-safe; one writer per ref at a time (the daemon answers kUnavailable "locked").
class ContentWriter {
 public:
  // kAlreadyExists when the store has `request.expected` already (nothing to write). While
  // another writer holds the ref (kUnavailable "locked"), waits and tries again, as
  // containerd's content.OpenWriter does (randomized backoff growing to 2 s), until the ref is
  // free or `stop` (if given) returns true, which returns the lock error.
  static Result<std::unique_ptr<ContentWriter>> Open(Client& client, const ContentWriteRequest& request,
                                                     const std::function<bool()>& stop = {});
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  int64_t offset() const;
  // Starts the ingest over: the next write truncates it.
  void Restart();
  Status Write(std::string_view data);
  // The blob's digest. kAlreadyExists is success for the caller that wanted the blob: someone
  // else committed it meanwhile (this writer's bytes are dropped).
  Result<std::string> Commit(const labels::Labels& labels = {});

 private:
  struct Stream;
  explicit ContentWriter(std::unique_ptr<Stream> stream);
  static Result<std::unique_ptr<ContentWriter>> OpenOnce(Client& client, const ContentWriteRequest& request);
  std::unique_ptr<Stream> stream_;
};

// Whether `status` is the daemon's "another writer holds this ingest ref" (kUnavailable,
// "ref ... locked ..."), as opposed to a daemon that cannot be reached.
bool IsRefLocked(const Status& status);

// A blob's bytes, read in order into the caller's buffers (one Read stream under the hood).
// Not thread-safe: one thread reads it at a time.
class ContentReader {
 public:
  static Result<std::unique_ptr<ContentReader>> Open(Client& client, const std::string& digest,
                                                     int64_t offset = 0);
  ~ContentReader();
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;

  // Up to buf.size() bytes; 0 at the end of the blob.
  Result<size_t> Read(std::span<char> buf);

 private:
  struct Stream;
  explicit ContentReader(std::unique_ptr<Stream> stream);
  std::unique_ptr<Stream> stream_;
};

}  // namespace berth::client
