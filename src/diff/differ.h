// containerd's "walking" differ (diff/apply + diff/walking) over the namespaced content store
// and containerd.types.Mount lists:
//
// Apply(layer descriptor, mounts) unpacks the layer blob onto what the mounts describe:
// - one overlay mount with an upperdir: straight into the upperdir, overlay whiteouts, its
//   lowerdirs as the attribute source for created parents (containerd's fast path);
// - one writable bind mount: straight into its source directory, plain whiteouts (what
//   mounting it would give, without the mount);
// - anything else: mounted on a temporary directory, plain whiteouts.
// The result is the applied descriptor: the uncompressed digest (diff_id), size, and media type
// application/vnd.oci.image.layer.v1.tar.
//
// Compare(lower, upper) writes the changeset between the two mounted trees (both read-only)
// into the content store as a layer (gzip by default, or plain tar) with the
// containerd.io/uncompressed label.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/descriptor.h"
#include "common/labels.h"
#include "common/status.h"
#include "metadata/content_store.h"
#include "mount/mount.h"

namespace berth::diff {

// A layer in, the applied or written layer out (common/descriptor.h); annotations and platform
// are neither read nor set.
using Descriptor = berth::Descriptor;

inline constexpr const char* kUncompressedLabel = "containerd.io/uncompressed";

struct CompareOptions {
  std::string media_type;  // "" = application/vnd.oci.image.layer.v1.tar+gzip
  std::string ref;         // content ingest ref; "" = a unique one
  labels::Labels labels;   // on the committed blob (plus containerd.io/uncompressed)
};

// Thread-safe: Apply and Compare may run concurrently (no mutable state; each makes its own
// temp mount dir and content ingest).
class Differ {
 public:
  // `temp_mounts`: where temporary mount points are made (created when needed).
  Differ(metadata::ContentStore& store, std::filesystem::path temp_mounts)
      : store_(store), temp_mounts_(std::move(temp_mounts)) {}

  // NotFound "failed to get reader from content store: content digest <d>: not found" when the
  // namespace lacks the blob; InvalidArgument for a media type that is no layer.
  Result<Descriptor> Apply(const metadata::ContentScope& scope, const Descriptor& layer,
                           const std::vector<mount::Mount>& mounts);

  // NotImplemented "unsupported diff media type: <mt>" for anything but a tar or tar+gzip layer.
  Result<Descriptor> Compare(const metadata::ContentScope& scope, const std::vector<mount::Mount>& lower,
                             const std::vector<mount::Mount>& upper, const CompareOptions& options);

 private:
  Status EnsureTempRoot();

  metadata::ContentStore& store_;
  std::filesystem::path temp_mounts_;
};

// The upperdir and lowerdirs of an overlay mount's options; nullopt without an upperdir.
struct OverlayDirs {
  std::filesystem::path upper;
  std::vector<std::filesystem::path> lowers;
};
std::optional<OverlayDirs> OverlayDirsOf(const mount::Mount& m);
// Whether `m` is a bind mount ("bind" type or a bind/rbind option) and a read-only one.
bool IsBind(const mount::Mount& m);
bool IsReadOnly(const mount::Mount& m);
// containerd's readonly temp mounts: overlays lose upperdir/workdir (the upperdir becomes the
// top lowerdir), everything gets "ro".
std::vector<mount::Mount> ReadonlyMounts(std::vector<mount::Mount> mounts);

}  // namespace berth::diff
