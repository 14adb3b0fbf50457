// The objects of the storage services (content, images, leases, containers, snapshots) as the client
// library hands them out: plain structs, timestamps as time points, labels as maps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/descriptor.h"
#include "common/labels.h"
#include "common/records.h"
#include "common/status.h"
#include "common/timeutil.h"
#include "mount/mount.h"

namespace berth::client {

// A content blob (containerd's content.Info).
struct ContentInfo {
  std::string digest;
  int64_t size = 0;
  TimePoint created_at;
  TimePoint updated_at;
  labels::Labels labels;
};

// An unfinished write to the content store (containerd's content.Status).
struct IngestStatus {
  std::string ref;
  int64_t offset = 0;  // bytes written so far
  int64_t total = 0;   // expected size, 0 when unknown
  std::string expected;
  TimePoint started_at;
  TimePoint updated_at;
};

// What WriteContent stores and how.
struct ContentWriteRequest {
  std::string ref;             // the ingest's key; required
  std::string expected;        // digest to verify, "" for none
  int64_t size = 0;            // size to verify, 0 for none
  labels::Labels labels;       // set on the blob at commit
  bool commit = true;          // false: write all the input but leave the ingest open
  size_t chunk_size = 1 << 20;  // bytes per WRITE message
};

struct ContentWriteResult {
  std::string digest;          // of the blob (or, uncommitted, of the bytes so far)
  int64_t offset = 0;          // bytes in the ingest (or the blob) at the end
  int64_t resumed_from = 0;    // bytes already in the ingest when the write started
  bool already_exists = false;  // the store had the blob already: nothing was written
};

// Receives the bytes of a read in order; a non-ok Status stops the read and is returned.
using ReadCallback = std::function<Status(std::string_view data)>;

// The shared plain records (common/descriptor.h, common/records.h), the same types berthd's
// metadata store uses.
using Descriptor = berth::Descriptor;
using Image = berth::Image;
using Container = berth::Container;

struct Lease {
  std::string id;
  TimePoint created_at;
  labels::Labels labels;
};

// A resource a lease keeps: type "content", "ingests", "snapshots/<snapshotter>", ...
struct LeaseResource {
  std::string id;
  std::string type;
};

// containerd.types.Mount: what a snapshot's mounts are (type, source, options).
using Mount = mount::Mount;

// containerd's snapshots.Kind, numbered as containerd.services.snapshots.v1.Kind.
enum class SnapshotKind : int { kUnknown = 0, kView = 1, kActive = 2, kCommitted = 3 };

// "view", "active", "committed", "unknown" (containerd's Kind.String).
constexpr std::string_view SnapshotKindName(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kView: return "view";
    case SnapshotKind::kActive: return "active";
    case SnapshotKind::kCommitted: return "committed";
    case SnapshotKind::kUnknown: break;
  }
  return "unknown";
}

// containerd's snapshots.Info.
struct SnapshotInfo {
  std::string name;    // the key
  std::string parent;  // the committed parent's key, "" for none
  SnapshotKind kind = SnapshotKind::kUnknown;
  labels::Labels labels;
  TimePoint created_at;
  TimePoint updated_at;
};

// containerd's snapshots.Usage: bytes and inodes a snapshot takes.
struct SnapshotUsage {
  int64_t size = 0;
  int64_t inodes = 0;
};

}  // namespace berth::client
