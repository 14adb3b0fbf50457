// Content ownership in the metadata DB: which namespace holds which blob (with its labels and
// times), and which ingests are in progress per namespace. Stateless functions over the
// caller's transaction, like namespaces.h; metadata/content_store.h puts them together with
// the on-disk store.
//
// A blob is stored once on disk and owned by any number of namespaces; a row here is what
// makes it visible in a namespace (containerd's metadata/content.go buckets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/labels.h"
#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata {

struct ContentInfo {
  std::string digest;
  int64_t size = 0;
  int64_t created_at = 0;  // unix nanos
  int64_t updated_at = 0;
  labels::Labels labels;
};

struct IngestRecord {
  std::string ref;
  // The blob this ingest becomes without data being written: set when the blob was already
  // on disk (owned by another namespace) when the write began (containerd's shared content).
  std::string expected;
  int64_t created_at = 0;
};

namespace content_meta {

// The ref the on-disk store knows a namespace's ingest by: "<ns>/<ref>" (a namespace is an
// identifier, so it has no '/'): the same ref in two namespaces is two ingests.
std::string IngestKey(std::string_view ns, std::string_view ref);

// Blobs. NotFound "content digest <d>" when `ns` does not own `digest`.
Result<ContentInfo> Get(Tx& tx, std::string_view ns, std::string_view digest);
Result<bool> Owns(Tx& tx, std::string_view ns, std::string_view digest);
// Blobs of `ns` matching `filter` (null matches all), by digest. Fields as containerd's
// content.AdaptInfo: `digest`, `labels.<key>`; `size` is never present.
Result<std::vector<ContentInfo>> List(Tx& tx, std::string_view ns, const filters::FilterPtr& filter);
// Records that `ns` owns the blob (namespace created if needed); AlreadyExists
// "content <d>" when it already does. Empty label values are not stored.
Status Insert(Tx& tx, std::string_view ns, std::string_view digest, int64_t size,
              const labels::Labels& labels);
// containerd's Update: `paths` "labels" (replace all) or "labels.<key>" (set, or delete when
// absent from `labels`); no paths replaces all labels. InvalidArgument for any other path.
Result<ContentInfo> Update(Tx& tx, std::string_view ns, std::string_view digest,
                           const labels::Labels& labels, const std::vector<std::string>& paths);
// Drops `ns`'s ownership (labels with it). NotFound when it has none. The file stays until
// the garbage collector finds no namespace owning it.
Status Delete(Tx& tx, std::string_view ns, std::string_view digest);

// Ingests.
// Records the ingest (namespace created if needed) or updates its `expected`.
Status PutIngest(Tx& tx, std::string_view ns, std::string_view ref, std::string_view expected);
Result<std::optional<IngestRecord>> GetIngest(Tx& tx, std::string_view ns, std::string_view ref);
Result<std::vector<IngestRecord>> ListIngests(Tx& tx, std::string_view ns);
// Removing one that is not there is fine.
Status DeleteIngest(Tx& tx, std::string_view ns, std::string_view ref);

}  // namespace content_meta
}  // namespace berth::metadata
