// containerd.types.Mount <-> mount::Mount.
#pragma once

#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "github.com/containerd/containerd/api/types/mount.pb.h"
#include "mount/mount.h"

namespace berth::mount {

void ToProto(const Mount& m, containerd::types::Mount* out);
Mount FromProto(const containerd::types::Mount& m);
std::vector<Mount> FromProto(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& in);

}  // namespace berth::mount
