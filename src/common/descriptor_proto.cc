#include "common/descriptor_proto.h"

namespace berth {

Descriptor DescriptorFromProto(const containerd::types::Descriptor& d) {
  return Descriptor{d.media_type(), d.digest(), d.size(),
                    labels::Labels(d.annotations().begin(), d.annotations().end()), std::nullopt};
}

void DescriptorToProto(const Descriptor& d, containerd::types::Descriptor* out) {
  out->set_media_type(d.media_type);
  out->set_digest(d.digest);
  out->set_size(d.size);
  out->mutable_annotations()->insert(d.annotations.begin(), d.annotations.end());
}

}  // namespace berth
