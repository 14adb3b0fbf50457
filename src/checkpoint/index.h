// The index of a checkpoint image, as containerd's container.Checkpoint writes it: an OCI index
// (schemaVersion 2) whose manifests are the checkpoint's blobs (criu tar, spec, options, ...),
// each with the platform it was taken on, and annotations naming the runtime (and the image and
// snapshotter when the container had them). The index blob carries
// `containerd.io/gc.ref.content.<i>` labels for its manifests (containerd's writeIndex), so
// the image record keeps the whole checkpoint alive. Pure functions: unit-tested alone.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/store_blob.h"
#include "common/labels.h"
#include "common/status.h"
#include "images/walk.h"

namespace berth::checkpoint {

inline constexpr const char* kMediaTypeIndex = "application/vnd.oci.image.index.v1+json";

struct Index {
  std::vector<Blob> manifests;
  std::map<std::string, std::string> annotations;
};

// The index's JSON in Go's field order (ocispec.Index, json.Marshal): schemaVersion, mediaType,
// manifests (mediaType, digest, size, platform {architecture, os[, variant]}), annotations
// (left out when empty).
std::string EncodeIndex(const Index& index, const images::Platform& platform);

// containerd.io/gc.ref.content.<i> = the i-th manifest's digest.
labels::Labels IndexGcLabels(const Index& index);

// A checkpoint index read back: InvalidArgument for JSON that is not an OCI index, or a
// manifest without a media type, a digest or a size.
Result<Index> DecodeIndex(std::string_view text);

// The first manifest of `media_type`; nullptr when there is none.
const Blob* FindManifest(const Index& index, std::string_view media_type);

}  // namespace berth::checkpoint
