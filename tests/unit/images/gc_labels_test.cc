#include <gtest/gtest.h>

#include "images/gc_labels.h"

namespace berth::images {
namespace {

TEST(GcLabelsChild, NumberedAsContainerd) {
  std::vector<BlobDescriptor> manifest_children = {
      {"application/vnd.oci.image.config.v1+json", "sha256:c", 1, {}},
      {"application/vnd.oci.image.layer.v1.tar+gzip", "sha256:l0", 1, {}},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:l1", 1, {}},
      {"application/octet-stream", "sha256:x", 1, {}},
      {"application/octet-stream", "sha256:y", 1, {}},
  };
  labels::Labels want = {
      {"containerd.io/gc.ref.content.config", "sha256:c"},
      {"containerd.io/gc.ref.content.l.0", "sha256:l0"},
      {"containerd.io/gc.ref.content.l.1", "sha256:l1"},
      {"containerd.io/gc.ref.content.0", "sha256:x"},  // keys ending in '.' always numbered
      {"containerd.io/gc.ref.content.1", "sha256:y"},
  };
  EXPECT_EQ(ChildGcLabels(manifest_children), want);
  std::vector<BlobDescriptor> index_children = {
      {"application/vnd.oci.image.manifest.v1+json", "sha256:m0", 1, {}},
      {"application/vnd.docker.distribution.manifest.v2+json", "sha256:m1", 1, {}},
  };
  EXPECT_EQ(ChildGcLabels(index_children),
            (labels::Labels{{"containerd.io/gc.ref.content.m.0", "sha256:m0"},
                            {"containerd.io/gc.ref.content.m.1", "sha256:m1"}}));
}

}  // namespace
}  // namespace berth::images
