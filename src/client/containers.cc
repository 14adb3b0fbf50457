// Client: the containers service (metadata only; berthd runs no tasks).
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"
#include "common/container_proto.h"

namespace berth::client {
namespace {

// A container as the daemon sends it, with its timestamps.
Container ContainerFromReply(const containersv1::Container& c) {
  Container out = ContainerFromProto(c);
  out.created_at = TimeOf(c.has_created_at(), c.created_at());
  out.updated_at = TimeOf(c.has_updated_at(), c.updated_at());
  return out;
}

}  // namespace

Result<Container> Client::GetContainer(const std::string& id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::GetContainerRequest request;
  request.set_id(id);
  containersv1::GetContainerResponse response;
  grpc::Status status = stubs_->containers->Get(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromReply(response.container());
}

// ListStream, one container per message (as containerd's client, for lists larger than a
// message), falling back to List on a daemon without it.
Result<std::vector<Container>> Client::ListContainers(
    const std::vector<std::string>& filters) const {
  containersv1::ListContainersRequest request;
  for (const auto& f : filters) request.add_filters(f);
  std::vector<Container> out;
  {
    grpc::ClientContext context;
    Prepare(&context, true);
    auto reader = stubs_->containers->ListStream(&context, request);
    containersv1::ListContainerMessage message;
    while (reader->Read(&message)) out.push_back(ContainerFromReply(message.container()));
    grpc::Status status = reader->Finish();
    if (status.ok()) return out;
    if (status.error_code() != grpc::StatusCode::UNIMPLEMENTED) return FromGrpc(status);
  }
  out.clear();
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::ListContainersResponse response;
  grpc::Status status = stubs_->containers->List(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  for (const auto& c : response.containers()) out.push_back(ContainerFromReply(c));
  return out;
}

Result<Container> Client::CreateContainer(const Container& container) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::CreateContainerRequest request;
  ContainerToProto(container, request.mutable_container());
  containersv1::CreateContainerResponse response;
  grpc::Status status = stubs_->containers->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromReply(response.container());
}

Result<Container> Client::UpdateContainer(const Container& container,
                                          const std::vector<std::string>& paths) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::UpdateContainerRequest request;
  ContainerToProto(container, request.mutable_container());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  containersv1::UpdateContainerResponse response;
  grpc::Status status = stubs_->containers->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromReply(response.container());
}

Status Client::DeleteContainer(const std::string& id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::DeleteContainerRequest request;
  request.set_id(id);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->containers->Delete(&context, request, &response));
}

}  // namespace berth::client
