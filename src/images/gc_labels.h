// The labels a parent blob gets for its children (containerd's images.ChildGCLabels, numbered
// as SetChildrenMappedLabels does), so garbage collection keeps a whole image from its root:
// containerd.io/gc.ref.content.config, .m.<i> (manifests of an index), .l.<i> (layers), and
// containerd.io/gc.ref.content.<i> for anything else.
#pragma once

#include <vector>

#include "common/labels.h"
#include "images/walk.h"

namespace berth::images {

labels::Labels ChildGcLabels(const std::vector<BlobDescriptor>& children);

}  // namespace berth::images
