#include "services/images_service.h"

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
  const auto& t = image.target();
  out.target = metadata::Descriptor{t.media_type(), t.digest(), t.size(),
                                    labels::Labels(t.annotations().begin(), t.annotations().end())};
  return out;
}

void ImagesService::ToProto(const metadata::Image& image, imagesapi::Image* out) {
  out->set_name(image.name);
  for (const auto& [k, v] : image.labels) (*out->mutable_labels())[k] = v;
  auto* t = out->mutable_target();
  t->set_media_type(image.target.media_type);
  t->set_digest(image.target.digest);
  t->set_size(image.target.size);
  for (const auto& [k, v] : image.target.annotations) (*t->mutable_annotations())[k] = v;
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
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  Status st = db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto image, metadata::images::Get(tx, *ns, req->name()));
    ToProto(image, resp->mutable_image());
    return Status::Ok();
  });
  return ToGrpc(st);
}

grpc::Status ImagesService::List(grpc::ServerContext* ctx, const imagesapi::ListImagesRequest* req,
                                 imagesapi::ListImagesResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  Status st = db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto all, metadata::images::List(tx, *ns, Strings(req->filters())));
    for (const auto& image : all) ToProto(image, resp->add_images());
    return Status::Ok();
  });
  return ToGrpc(st);
}

grpc::Status ImagesService::Create(grpc::ServerContext* ctx, const imagesapi::CreateImageRequest* req,
                                   imagesapi::CreateImageResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (req->image().name().empty()) return ToGrpc(InvalidArgument("Image.Name required"));
  metadata::Image created;
  Status st = db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(created, metadata::images::Create(tx, *ns, FromProto(req->image())));
    return Status::Ok();
  });
  if (!st.ok()) return ToGrpc(st);
  ToProto(created, resp->mutable_image());
  log::Info("image created", {{"namespace", *ns}, {"name", created.name},
                              {"target", created.target.digest}});

  containerd::services::images::v1::ImageCreate event;
  event.set_name(created.name);
  *event.mutable_labels() = resp->image().labels();
  PublishEvent(*ns, "/images/create", event);
  return grpc::Status::OK;
}

grpc::Status ImagesService::Update(grpc::ServerContext* ctx, const imagesapi::UpdateImageRequest* req,
                                   imagesapi::UpdateImageResponse* resp) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (req->image().name().empty()) return ToGrpc(InvalidArgument("Image.Name required"));
  std::vector<std::string> paths;
  if (req->has_update_mask()) paths = Strings(req->update_mask().paths());
  metadata::Image updated;
  Status st = db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(updated,
                           metadata::images::Update(tx, *ns, FromProto(req->image()), paths));
    return Status::Ok();
  });
  if (!st.ok()) return ToGrpc(st);
  ToProto(updated, resp->mutable_image());
  log::Info("image updated", {{"namespace", *ns}, {"name", updated.name}});

  containerd::services::images::v1::ImageUpdate event;
  event.set_name(updated.name);
  *event.mutable_labels() = resp->image().labels();
  PublishEvent(*ns, "/images/update", event);
  return grpc::Status::OK;
}

grpc::Status ImagesService::Delete(grpc::ServerContext* ctx, const imagesapi::DeleteImageRequest* req,
                                   google::protobuf::Empty* /*resp*/) {
  auto ns = RequireNamespace(*ctx);
  if (!ns.ok()) return ToGrpc(ns.status());
  Status st = db_.Update([&](metadata::Tx& tx) {
    return metadata::images::Delete(tx, *ns, req->name());
  });
  if (!st.ok()) return ToGrpc(st);
  log::Info("image deleted", {{"namespace", *ns}, {"name", req->name()}, {"sync", req->sync()}});

  containerd::services::images::v1::ImageDelete event;
  event.set_name(req->name());
  PublishEvent(*ns, "/images/delete", event);
  if (req->sync()) return ToGrpc(gc_.CollectNow());
  gc_.Schedule();
  return grpc::Status::OK;
}

}  // namespace berth::services
