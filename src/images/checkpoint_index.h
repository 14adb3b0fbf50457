// The index of a checkpoint image, as containerd's client writes it (container.Checkpoint's
// writeIndex): an OCI index (schemaVersion 2) whose manifests are the checkpoint's blobs (criu
// tar, spec, options, runtime options, rw layer — each with the platform it was taken on) and
// possibly the base image's target, with annotations naming the image, runtime and snapshotter.
// The index blob carries `containerd.io/gc.ref.content.<i>` labels for its manifests, so the
// image record keeps the whole checkpoint alive. Shared by the client library (berth, the CLI)
// and berthd (the REST API's named checkpoints). Pure functions: unit-tested alone.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/status.h"
#include "images/walk.h"

namespace berth::images {

struct IndexEntry {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  bool with_platform = true;  // the checkpoint's own blobs; not the base image's target
};

struct CheckpointIndex {
  std::vector<IndexEntry> manifests;
  std::map<std::string, std::string> annotations;
};

// The index's JSON in Go's field order (ocispec.Index, json.Marshal): schemaVersion, mediaType,
// manifests (mediaType, digest, size, annotations, platform {architecture, os[, variant]}),
// annotations (left out when empty).
std::string EncodeCheckpointIndex(const CheckpointIndex& index, const Platform& platform);

// containerd.io/gc.ref.content.<i> = the i-th manifest's digest.
labels::Labels CheckpointIndexGcLabels(const CheckpointIndex& index);

// A checkpoint index read back: InvalidArgument for JSON that is not an OCI index, or a
// manifest without a media type, a digest or a size.
Result<CheckpointIndex> DecodeCheckpointIndex(std::string_view text);

// The first manifest of `media_type`; nullptr when there is none.
const IndexEntry* FindEntry(const CheckpointIndex& index, std::string_view media_type);

}  // namespace berth::images
