// Conversions between the API's messages and the client's structs (private to the library).
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/timestamp.pb.h>

#include "client/types.h"
#include "common/descriptor_proto.h"  // DescriptorFromProto, DescriptorToProto
#include "common/timeutil.h"

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

}  // namespace berth::client
