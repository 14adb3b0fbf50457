// Layer media types the differ applies (containerd's images.DiffCompression): OCI layers
// (plain, +gzip, +zstd, and the non-distributable variants) and Docker schema 2 layers
// (diff.tar, diff.tar.gzip, and the foreign variants).
#pragma once

#include <string_view>

#include "common/status.h"

namespace berth::diff {

// What the media type says of the blob's compression. The blob's magic decides in the end
// (a Docker "diff.tar" is often gzip in practice, as containerd notes); this only says whether
// the media type is a layer at all.
enum class Compression { kNone, kGzip, kZstd, kUnknown };

inline constexpr std::string_view kMediaTypeLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

// InvalidArgument "failed to get stream processor for <mt>: no processor for media-type" (the
// text containerd's applier gives) for anything but a layer media type.
Result<Compression> LayerCompression(std::string_view media_type);

}  // namespace berth::diff
