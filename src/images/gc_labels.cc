#include "images/gc_labels.h"

#include <map>
#include <string>

namespace berth::images {

labels::Labels ChildGcLabels(const std::vector<BlobDescriptor>& children) {
  labels::Labels out;
  std::map<std::string, int> seen;
  for (const auto& ch : children) {
    std::string key;
    if (IsConfigType(ch.media_type)) {
      key = "containerd.io/gc.ref.content.config";
    } else if (IsManifestType(ch.media_type)) {
      key = "containerd.io/gc.ref.content.m.";
    } else if (ch.media_type.find(".layer.") != std::string::npos ||
               ch.media_type.find(".rootfs.") != std::string::npos) {
      key = "containerd.io/gc.ref.content.l.";
    } else {
      key = "containerd.io/gc.ref.content.";
    }
    int idx = seen[key]++;
    if (idx > 0 || key.back() == '.') key += std::to_string(idx);
    out[key] = ch.digest;
  }
  return out;
}

}  // namespace berth::images
