#include "diff/media_type.h"

#include <algorithm>
#include <string>
#include <vector>

namespace berth::diff {
namespace {

constexpr std::string_view kOciLayerNonDistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
constexpr std::string_view kDockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar";
constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view kDockerLayerForeignGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

Status NoProcessor(std::string_view media_type) {
  return InvalidArgument("failed to get stream processor for {}: no processor for media-type", media_type);
}

}  // namespace

Result<Compression> LayerCompression(std::string_view media_type) {
  // "base+ext1+ext2": containerd sorts the extensions and looks at the last one.
  std::string_view base = media_type.substr(0, media_type.find('+'));
  std::vector<std::string_view> exts;
  for (size_t pos = base.size(); pos < media_type.size();) {
    size_t next = media_type.find('+', pos + 1);
    if (next == std::string_view::npos) next = media_type.size();
    exts.push_back(media_type.substr(pos + 1, next - pos - 1));
    pos = next;
  }
  std::sort(exts.begin(), exts.end());

  if (base == kDockerLayer || base == kDockerLayerForeign) {
    if (!exts.empty()) return NoProcessor(media_type);
    return Compression::kUnknown;  // often gzip despite the name: detected by magic
  }
  if (base == kDockerLayerGzip || base == kDockerLayerForeignGzip) {
    if (!exts.empty()) return NoProcessor(media_type);
    return Compression::kGzip;
  }
  if (base == kMediaTypeLayer || base == kOciLayerNonDistributable) {
    if (exts.empty()) return Compression::kNone;
    // Only a single compression suffix: "+encrypted" and friends need processors we lack.
    if (exts.size() == 1 && exts.back() == "gzip") return Compression::kGzip;
    if (exts.size() == 1 && exts.back() == "zstd") return Compression::kZstd;
    return NoProcessor(media_type);
  }
  return NoProcessor(media_type);
}

}  // namespace berth::diff
