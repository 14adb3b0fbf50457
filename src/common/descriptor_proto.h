// Descriptor <-> containerd.types.Descriptor (media type, digest, size, annotations; the
// message has no platform).
#pragma once

#include "common/descriptor.h"
#include "github.com/containerd/containerd/api/types/descriptor.pb.h"

namespace berth {

Descriptor DescriptorFromProto(const containerd::types::Descriptor& d);
void DescriptorToProto(const Descriptor& d, containerd::types::Descriptor* out);

}  // namespace berth
