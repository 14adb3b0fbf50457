#include "common/container_proto.h"

namespace berth {

Container ContainerFromProto(const containerd::services::containers::v1::Container& c) {
  Container out;
  out.id = c.id();
  out.labels = labels::Labels(c.labels().begin(), c.labels().end());
  out.image = c.image();
  out.runtime.name = c.runtime().name();
  if (c.runtime().has_options()) out.runtime.options = c.runtime().options();
  if (c.has_spec()) out.spec = c.spec();
  out.snapshotter = c.snapshotter();
  out.snapshot_key = c.snapshot_key();
  out.extensions.insert(c.extensions().begin(), c.extensions().end());
  return out;
}

void ContainerToProto(const Container& c, containerd::services::containers::v1::Container* out) {
  out->set_id(c.id);
  out->mutable_labels()->insert(c.labels.begin(), c.labels.end());
  out->set_image(c.image);
  out->mutable_runtime()->set_name(c.runtime.name);
  if (c.runtime.options) *out->mutable_runtime()->mutable_options() = *c.runtime.options;
  if (c.spec) *out->mutable_spec() = *c.spec;
  out->set_snapshotter(c.snapshotter);
  out->set_snapshot_key(c.snapshot_key);
  out->mutable_extensions()->insert(c.extensions.begin(), c.extensions.end());
}

}  // namespace berth
