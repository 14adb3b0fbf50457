// Conversions between the API's messages and the client's structs (private to the library).
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/timestamp.pb.h>

#include "client/types.h"
#include "common/timeutil.h"
#include "github.com/containerd/containerd/api/types/descriptor.pb.h"

namespace berth::client {

inline labels::Labels LabelsOf(const google::protobuf::Map<std::string, std::string>& map) {
  return labels::Labels(map.begin(), map.end());
}

inline void SetLabels(const labels::Labels& from,
                      google::protobuf::Map<std::string, std::string>* to) {
  to->insert(from.begin(), from.end());
}

// A time point from a timestamp the message may lack (the epoch then).
inline TimePoint TimeOf(bool has, const google::protobuf::Timestamp& ts) {
  return has ? berth::FromProto(ts) : TimePoint{};
}

inline Descriptor DescriptorFromProto(const containerd::types::Descriptor& d) {
  return Descriptor{d.media_type(), d.digest(), d.size(),
                    std::map<std::string, std::string>(d.annotations().begin(),
                                                       d.annotations().end())};
}

inline void DescriptorToProto(const Descriptor& d, containerd::types::Descriptor* out) {
  out->set_media_type(d.media_type);
  out->set_digest(d.digest);
  out->set_size(d.size);
  out->mutable_annotations()->insert(d.annotations.begin(), d.annotations.end());
}

}  // namespace berth::client
