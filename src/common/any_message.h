// google.protobuf.Any as containerd's typeurl writes it: the type URL is either
// "type.googleapis.com/<full name>" or the bare full name ("containerd.runc.v1.Options"), which
// protobuf's own Any::Is/UnpackTo refuse.
#pragma once

#include <string_view>

#include <google/protobuf/any.pb.h>

namespace berth {

// The message type an Any names: its type URL after the last '/'.
inline std::string_view AnyTypeName(const google::protobuf::Any& any) {
  std::string_view url = any.type_url();
  if (auto slash = url.rfind('/'); slash != std::string_view::npos) url.remove_prefix(slash + 1);
  return url;
}

template <typename M>
bool AnyIs(const google::protobuf::Any& any) {
  return AnyTypeName(any) == M::descriptor()->full_name();
}

// False when the Any holds another type or does not decode.
template <typename M>
bool UnpackAny(const google::protobuf::Any& any, M* out) {
  return AnyIs<M>(any) && out->ParseFromString(any.value());
}

}  // namespace berth
