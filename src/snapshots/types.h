// What a snapshotter says about a snapshot (containerd's snapshots.Info, Kind, Usage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "common/timeutil.h"

namespace berth::snapshots {

// Values as containerd.services.snapshots.v1.Kind numbers them (and as the DB stores them).
enum class Kind : int { kUnknown = 0, kView = 1, kActive = 2, kCommitted = 3 };

// "view", "active", "committed" (containerd's Kind.String, used by filters and ctr).
std::string_view KindName(Kind kind);

struct Info {
  std::string name;    // the key
  std::string parent;  // key of the committed parent, "" for none
  Kind kind = Kind::kUnknown;
  labels::Labels labels;
  TimePoint created_at{};
  TimePoint updated_at{};
};

// Resources a snapshot takes: bytes allocated (st_blocks * 512) and inodes, hard links once.
struct DiskUsage {
  int64_t size = 0;
  int64_t inodes = 0;
};

// Options of Prepare/View/Commit: labels for the new snapshot and the lease (from the
// `containerd-lease` header) that is to hold it.
struct CreateOptions {
  labels::Labels labels;
  std::optional<std::string> lease;
};

// containerd's `containerd.io/snapshot.ref` label: the name a Prepare intends to commit to;
// when a snapshot of that name exists already, Prepare answers AlreadyExists (unpack skips).
inline constexpr std::string_view kLabelSnapshotRef = "containerd.io/snapshot.ref";

}  // namespace berth::snapshots
