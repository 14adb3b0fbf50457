// Client: the images service.
#include <google/protobuf/empty.pb.h>

#include "client/client.h"
#include "client/convert.h"
#include "client/grpc_errors.h"
#include "client/stubs.h"

namespace berth::client {
namespace {

Image ImageFromProto(const imagesv1::Image& image) {
  return Image{image.name(), LabelsOf(image.labels()), DescriptorFromProto(image.target()),
               TimeOf(image.has_created_at(), image.created_at()),
               TimeOf(image.has_updated_at(), image.updated_at())};
}

void ImageToProto(const Image& image, imagesv1::Image* out) {
  out->set_name(image.name);
  SetLabels(image.labels, out->mutable_labels());
  DescriptorToProto(image.target, out->mutable_target());
}

}  // namespace

Result<Image> Client::GetImage(const std::string& name) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  imagesv1::GetImageRequest request;
  request.set_name(name);
  imagesv1::GetImageResponse response;
  grpc::Status status = stubs_->images->Get(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ImageFromProto(response.image());
}

Result<std::vector<Image>> Client::ListImages(const std::vector<std::string>& filters) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  imagesv1::ListImagesRequest request;
  for (const auto& f : filters) request.add_filters(f);
  imagesv1::ListImagesResponse response;
  grpc::Status status = stubs_->images->List(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  std::vector<Image> out;
  out.reserve(static_cast<size_t>(response.images_size()));
  for (const auto& image : response.images()) out.push_back(ImageFromProto(image));
  return out;
}

Result<Image> Client::CreateImage(const Image& image) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  imagesv1::CreateImageRequest request;
  ImageToProto(image, request.mutable_image());
  imagesv1::CreateImageResponse response;
  grpc::Status status = stubs_->images->Create(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ImageFromProto(response.image());
}

Result<Image> Client::UpdateImage(const Image& image, const std::vector<std::string>& paths) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  imagesv1::UpdateImageRequest request;
  ImageToProto(image, request.mutable_image());
  for (const auto& path : paths) request.mutable_update_mask()->add_paths(path);
  imagesv1::UpdateImageResponse response;
  grpc::Status status = stubs_->images->Update(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ImageFromProto(response.image());
}

Status Client::DeleteImage(const std::string& name, bool sync) const {
  grpc::ClientContext context;
  Prepare(&context, true);
  imagesv1::DeleteImageRequest request;
  request.set_name(name);
  request.set_sync(sync);
  google::protobuf::Empty response;
  return FromGrpc(stubs_->images->Delete(&context, request, &response));
}

}  // namespace berth::client
