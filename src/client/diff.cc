// Client: the diff service (containerd's diff proxy: Apply and Diff).
#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"
#include "mount/mount_proto.h"

namespace berth::client {

Result<Descriptor> Client::ApplyDiff(const Descriptor& layer,
                                     const std::vector<Mount>& mounts) const {
  grpc::ClientContext context;
  Prepare(&context, false);  // a large layer takes longer than a unary deadline
  diffv1::ApplyRequest request;
  DescriptorToProto(layer, request.mutable_diff());
  for (const auto& m : mounts) mount::ToProto(m, request.add_mounts());
  diffv1::ApplyResponse response;
  grpc::Status status = stubs_->diff->Apply(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return DescriptorFromProto(response.applied());
}

Result<Descriptor> Client::CompareDiff(const std::vector<Mount>& lower,
                                       const std::vector<Mount>& upper,
                                       const std::string& media_type, const std::string& ref,
                                       const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, false);
  diffv1::DiffRequest request;
  for (const auto& m : lower) mount::ToProto(m, request.add_left());
  for (const auto& m : upper) mount::ToProto(m, request.add_right());
  request.set_media_type(media_type);
  request.set_ref(ref);
  SetLabels(labels, request.mutable_labels());
  diffv1::DiffResponse response;
  grpc::Status status = stubs_->diff->Diff(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return DescriptorFromProto(response.diff());
}

}  // namespace berth::client
