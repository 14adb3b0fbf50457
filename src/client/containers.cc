// Client: the containers service (metadata only; berthd runs no tasks).
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"

namespace berth::client {
namespace {

Container ContainerFromProto(const containersv1::Container& c) {
  Container out;
  out.id = c.id();
  out.labels = LabelsOf(c.labels());
  out.image = c.image();
  out.runtime.name = c.runtime().name();
  if (c.runtime().has_options()) out.runtime.options = c.runtime().options();
  if (c.has_spec()) out.spec = c.spec();
  out.snapshotter = c.snapshotter();
  out.snapshot_key = c.snapshot_key();
  out.created_at = TimeOf(c.has_created_at(), c.created_at());
  out.updated_at = TimeOf(c.has_updated_at(), c.updated_at());
  out.extensions.insert(c.extensions().begin(), c.extensions().end());
  return out;
}

void ContainerToProto(const Container& c, containersv1::Container* out) {
  out->set_id(c.id);
  SetLabels(c.labels, out->mutable_labels());
  out->set_image(c.image);
  out->mutable_runtime()->set_name(c.runtime.name);
  if (c.runtime.options) *out->mutable_runtime()->mutable_options() = *c.runtime.options;
  if (c.spec) *out->mutable_spec() = *c.spec;
  out->set_snapshotter(c.snapshotter);
  out->set_snapshot_key(c.snapshot_key);
  out->mutable_extensions()->insert(c.extensions.begin(), c.extensions.end());
}

}  // namespace

Result<Container> Client::GetContainer(const std::string& id) {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::GetContainerRequest request;
  request.set_id(id);
  containersv1::GetContainerResponse response;
  grpc::Status status = stubs_->containers->Get(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromProto(response.container());
}

// ListStream, one container per message (as containerd's client, for lists larger than a
// message), falling back to List on a daemon without it.
Result<std::vector<Container>> Client::ListContainers(const std::vector<std::string>& filters) {
  containersv1::ListContainersRequest request;
  for (const auto& f : filters) request.add_filters(f);
  std::vector<Container> out;
  {
    grpc::ClientContext context;
    Prepare(&context, true);
    auto reader = stubs_->containers->ListStream(&context, request);
    containersv1::ListContainerMessage message;
    while (reader->Read(&message)) out.push_back(ContainerFromProto(message.container()));
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
  for (const auto& c : response.containers()) out.push_back(ContainerFromProto(c));
  return out;
}

Result<Container> Client::CreateContainer(const Container& container) {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::CreateContainerRequest request;
  ContainerToProto(container, request.mutable_container());
  containersv1::CreateContainerResponse response;
  grpc::Status status = stubs_->containers->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromProto(response.container());
}

Result<Container> Client::UpdateContainer(const Container& container,
                                          const std::vector<std::string>& paths) {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::UpdateContainerRequest request;
  ContainerToProto(container, request.mutable_container());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  containersv1::UpdateContainerResponse response;
  grpc::Status status = stubs_->containers->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ContainerFromProto(response.container());
}

Status Client::DeleteContainer(const std::string& id) {
  grpc::ClientContext context;
  Prepare(&context, true);
  containersv1::DeleteContainerRequest request;
  request.set_id(id);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->containers->Delete(&context, request, &response));
}

}  // namespace berth::client
