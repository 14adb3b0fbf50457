// containerd.services.images.v1.Images over the metadata DB (containerd 1.6's
// services/images): events /images/create|update|delete after commit; Delete with `sync`
// returns only after a garbage collection.
#pragma once

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/images/v1/images.grpc.pb.h"
#include "metadata/db.h"
#include "metadata/images.h"
#include "services/gc_hook.h"

namespace berth::services {

namespace imagesapi = containerd::services::images::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class ImagesService final : public imagesapi::Images::Service {
 public:
  ImagesService(metadata::Db& db, events::Publisher& publisher, GarbageCollector& gc)
      : db_(db), publisher_(publisher), gc_(gc) {}

  grpc::Status Get(grpc::ServerContext* ctx, const imagesapi::GetImageRequest* req,
                   imagesapi::GetImageResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const imagesapi::ListImagesRequest* req,
                    imagesapi::ListImagesResponse* resp) override;
  grpc::Status Create(grpc::ServerContext* ctx, const imagesapi::CreateImageRequest* req,
                      imagesapi::CreateImageResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const imagesapi::UpdateImageRequest* req,
                      imagesapi::UpdateImageResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const imagesapi::DeleteImageRequest* req,
                      google::protobuf::Empty* resp) override;

  // API <-> store conversions (public for tests).
  static metadata::Image FromProto(const imagesapi::Image& image);
  static void ToProto(const metadata::Image& image, imagesapi::Image* out);

 private:
  void PublishEvent(const std::string& ns, std::string_view topic,
                    const google::protobuf::Message& event);

  metadata::Db& db_;
  events::Publisher& publisher_;
  GarbageCollector& gc_;
};

}  // namespace berth::services
