#include "client/container_spec.h"

#include "client/typeurl.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace berth::client {

google::protobuf::Any SpecAny(std::string spec_json) {
  google::protobuf::Any any;
  any.set_type_url(kSpecTypeUrl);
  any.set_value(std::move(spec_json));
  return any;
}

google::protobuf::Any ProcessSpecAny(std::string process_json) {
  google::protobuf::Any any;
  any.set_type_url(kProcessSpecTypeUrl);
  any.set_value(std::move(process_json));
  return any;
}

google::protobuf::Any RuncOptionsAny(const std::string& binary_name) {
  containerd::runc::v1::Options options;
  options.set_binary_name(binary_name);
  return PackAny(options);
}

}  // namespace berth::client
