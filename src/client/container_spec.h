// How containerd's client packs what a container record carries for its task: the OCI spec
// (an Any whose value is the spec's JSON, under the runtime-spec type url) and the runc shim's
// options (containerd.runc.v1.Options, typeurl's bare name).
#pragma once

#include <string>

#include <google/protobuf/any.pb.h>

namespace berth::client {

// The runtime `ctr run` names by default (the runc shim v2).
inline constexpr const char* kRuncV2Runtime = "io.containerd.runc.v2";
inline constexpr const char* kSpecTypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
inline constexpr const char* kProcessSpecTypeUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/Process";

google::protobuf::Any SpecAny(std::string spec_json);
google::protobuf::Any ProcessSpecAny(std::string process_json);
// containerd.runc.v1.Options with binary_name set ("" for the shim's default, runc).
google::protobuf::Any RuncOptionsAny(const std::string& binary_name);

}  // namespace berth::client
