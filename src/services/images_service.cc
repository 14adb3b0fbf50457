#include "services/images_service.h"

#include "common/descriptor_proto.h"
#include "common/logging.h"
#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {
namespace {

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

}  // namespace

metadata::Image ImagesService::FromProto(const imagesapi::Image& image) {
  metadata::Image out;
  out.name = image.name();
  out.labels = labels::Labels(image.labels().begin(), image.labels().end());
  out.target = DescriptorFromProto(image.target());
  return out;
}

void ImagesService::ToProto(const metadata::Image& image, imagesapi::Image* out) {
  out->set_name(image.name);
  for (const auto& [k, v] : image.labels) (*out->mutable_labels())[k] = v;
  DescriptorToProto(image.target, out->mutable_target());
  *out->mutable_created_at() = berth::ToProto(image.created_at);
  *out->mutable_updated_at() = berth::ToProto(image.updated_at);
}

void ImagesService::PublishEvent(const std::string& ns, std::string_view topic,
                                 const google::protobuf::Message& event) {
  Status st = publisher_.Publish(ns, topic, event);
  if (!st.ok()) {
    log::Warn("publish image event", {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
  }
}

grpc::Status ImagesService::Get(grpc::ServerContext* ctx, const imagesapi::GetImageRequest* req,
                                imagesapi::GetImageResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto image, metadata::images::Get(tx, ns, req->name()));
      ToProto(image, resp->mutable_image());
      return Status::Ok();
    });
  });
}

grpc::Status ImagesService::List(grpc::ServerContext* ctx, const imagesapi::ListImagesRequest* req,
                                 imagesapi::ListImagesResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    return db_.View([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto all, metadata::images::List(tx, ns, Strings(req->filters())));
      for (const auto& image : all) ToProto(image, resp->add_images());
      return Status::Ok();
    });
  });
}

grpc::Status ImagesService::Create(grpc::ServerContext* ctx, const imagesapi::CreateImageRequest* req,
                                   imagesapi::CreateImageResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    if (req->image().name().empty()) return InvalidArgument("Image.Name required");
    metadata::Image created;
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(created, metadata::images::Create(tx, ns, FromProto(req->image())));
      return Status::Ok();
    }));
    ToProto(created, resp->mutable_image());
    log::Info("image created", {{"namespace", ns}, {"name", created.name},
                                {"target", created.target.digest}});

    containerd::services::images::v1::ImageCreate event;
    event.set_name(created.name);
    *event.mutable_labels() = resp->image().labels();
    PublishEvent(ns, "/images/create", event);
    return {};
  });
}

grpc::Status ImagesService::Update(grpc::ServerContext* ctx, const imagesapi::UpdateImageRequest* req,
                                   imagesapi::UpdateImageResponse* resp) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    if (req->image().name().empty()) return InvalidArgument("Image.Name required");
    std::vector<std::string> paths;
    if (req->has_update_mask()) paths = Strings(req->update_mask().paths());
    metadata::Image updated;
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(updated, metadata::images::Update(tx, ns, FromProto(req->image()), paths));
      return Status::Ok();
    }));
    ToProto(updated, resp->mutable_image());
    log::Info("image updated", {{"namespace", ns}, {"name", updated.name}});

    containerd::services::images::v1::ImageUpdate event;
    event.set_name(updated.name);
    *event.mutable_labels() = resp->image().labels();
    PublishEvent(ns, "/images/update", event);
    return {};
  });
}

grpc::Status ImagesService::Delete(grpc::ServerContext* ctx, const imagesapi::DeleteImageRequest* req,
                                   google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(std::string ns, RequireNamespace(*ctx));
    BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) { return metadata::images::Delete(tx, ns, req->name()); }));
    log::Info("image deleted", {{"namespace", ns}, {"name", req->name()}, {"sync", req->sync()}});

    containerd::services::images::v1::ImageDelete event;
    event.set_name(req->name());
    PublishEvent(ns, "/images/delete", event);
    if (req->sync()) return gc_.CollectNow();
    gc_.Schedule();
    return {};
  });
}

}  // namespace berth::services
