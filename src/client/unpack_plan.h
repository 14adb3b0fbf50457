// The pure part of unpacking (unpack.cc): which snapshot each layer of a manifest becomes, and
// the key an extraction snapshot gets. Kept apart so it is unit-tested without a daemon.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "images/walk.h"

namespace berth::client {

// One layer to unpack: its blob, its uncompressed digest (the config's diff id), the chain id
// of the layers up to it (the committed snapshot's name) and of those below it (its parent,
// "" for the first).
struct UnpackLayer {
  images::BlobDescriptor blob;
  std::string diff_id;
  std::string chain_id;
  std::string parent;
};

// Pairs the manifest's layers with the config's diff ids, in order. kInvalidArgument when the
// counts differ (containerd: "mismatched image rootfs and manifest layers").
Result<std::vector<UnpackLayer>> PlanUnpack(const std::vector<images::BlobDescriptor>& layers,
                                            const std::vector<std::string>& diff_ids);

// containerd's snapshots.UnpackKeyFormat: "extract-<unique> <chain id>".
std::string UnpackKey(std::string_view unique, std::string_view chain_id);

// rootfs.uniquePart: "<nanoseconds of the second>-<4 base64url characters of 3 random bytes>".
std::string UnpackUniquePart();

// The label the config gets naming the top snapshot: containerd.io/gc.ref.snapshot.<snapshotter>.
std::string GcRefSnapshotLabel(std::string_view snapshotter);

}  // namespace berth::client
