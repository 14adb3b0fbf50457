// What the content store reports about blobs and ingests.
#pragma once

#include <cstdint>
#include <string>

#include "common/timeutil.h"
#include "common/digest.h"

namespace berth::content {

// A committed blob on disk.
struct BlobInfo {
  Digest digest;
  int64_t size = 0;
  TimePoint created_at;  // commit time (the file's mtime)
  TimePoint updated_at;  // the file's atime, as containerd reports it
};

// An ingest (an unfinished write) by ref.
struct IngestStatus {
  std::string ref;
  int64_t offset = 0;  // bytes written so far
  int64_t total = 0;   // size the writer announced, 0 when unknown
  TimePoint started_at;
  TimePoint updated_at;
  std::string expected;  // digest the writer announced, empty when unknown
};

}  // namespace berth::content
