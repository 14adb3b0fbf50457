#include "mount/mount_proto.h"

namespace berth::mount {

void ToProto(const Mount& m, containerd::types::Mount* out) {
  out->set_type(m.type);
  out->set_source(m.source);
  for (const auto& o : m.options) out->add_options(o);
}

Mount FromProto(const containerd::types::Mount& m) {
  return Mount{m.type(), m.source(), {m.options().begin(), m.options().end()}};
}

std::vector<Mount> FromProto(const google::protobuf::RepeatedPtrField<containerd::types::Mount>& in) {
  std::vector<Mount> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const auto& m : in) out.push_back(FromProto(m));
  return out;
}

}  // namespace berth::mount
