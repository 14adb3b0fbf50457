// Client: the leases service.
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"

namespace berth::client {
namespace {

Lease LeaseFromProto(const leasesv1::Lease& lease) {
  return Lease{lease.id(), TimeOf(lease.has_created_at(), lease.created_at()),
               LabelsOf(lease.labels())};
}

void ResourceToProto(const LeaseResource& resource, leasesv1::Resource* out) {
  out->set_id(resource.id);
  out->set_type(resource.type);
}

}  // namespace

Result<Lease> Client::CreateLease(const std::string& id, const labels::Labels& labels) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::CreateRequest request;
  request.set_id(id);
  SetLabels(labels, request.mutable_labels());
  leasesv1::CreateResponse response;
  grpc::Status status = stubs_->leases->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return LeaseFromProto(response.lease());
}

Result<std::vector<Lease>> Client::ListLeases(const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::ListRequest request;
  for (const auto& f : filters) request.add_filters(f);
  leasesv1::ListResponse response;
  grpc::Status status = stubs_->leases->List(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<Lease> out;
  out.reserve(static_cast<size_t>(response.leases_size()));
  for (const auto& lease : response.leases()) out.push_back(LeaseFromProto(lease));
  return out;
}

Status Client::DeleteLease(const std::string& id, bool sync) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::DeleteRequest request;
  request.set_id(id);
  request.set_sync(sync);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->leases->Delete(&context, request, &response));
}

Status Client::AddLeaseResource(const std::string& lease_id, const LeaseResource& resource) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::AddResourceRequest request;
  request.set_id(lease_id);
  ResourceToProto(resource, request.mutable_resource());
  google::protobuf::Empty response;
  return FromGrpc(stubs_->leases->AddResource(&context, request, &response));
}

Status Client::DeleteLeaseResource(const std::string& lease_id,
                                   const LeaseResource& resource) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::DeleteResourceRequest request;
  request.set_id(lease_id);
  ResourceToProto(resource, request.mutable_resource());
  google::protobuf::Empty response;
  return FromGrpc(stubs_->leases->DeleteResource(&context, request, &response));
}

Result<std::vector<LeaseResource>> Client::ListLeaseResources(const std::string& lease_id) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  leasesv1::ListResourcesRequest request;
  request.set_id(lease_id);
  leasesv1::ListResourcesResponse response;
  grpc::Status status = stubs_->leases->ListResources(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<LeaseResource> out;
  for (const auto& r : response.resources()) out.push_back(LeaseResource{r.id(), r.type()});
  return out;
}

}  // namespace berth::client
