// containerd.services.content.v1.Content over the namespaced content store, with containerd
// 1.6's protocol (services/content/contentserver): List in batches of 100, Read in 1 MiB
// chunks, and the Write stream's stat/write/commit actions with containerd's offset rules.
#pragma once

#include "events/exchange.h"
#include "services/gc_hook.h"
#include "github.com/containerd/containerd/api/services/content/v1/content.grpc.pb.h"
#include "metadata/content_store.h"

namespace berth::services {

namespace contentapi = containerd::services::content::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class ContentService final : public contentapi::Content::Service {
 public:
  ContentService(metadata::ContentStore& store, events::Publisher& publisher, GarbageCollector& gc)
      : store_(store), publisher_(publisher), gc_(gc) {}

  grpc::Status Info(grpc::ServerContext* ctx, const contentapi::InfoRequest* req,
                    contentapi::InfoResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const contentapi::UpdateRequest* req,
                      contentapi::UpdateResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const contentapi::ListContentRequest* req,
                    grpc::ServerWriter<contentapi::ListContentResponse>* writer) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const contentapi::DeleteContentRequest* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status Read(grpc::ServerContext* ctx, const contentapi::ReadContentRequest* req,
                    grpc::ServerWriter<contentapi::ReadContentResponse>* writer) override;
  grpc::Status Status(grpc::ServerContext* ctx, const contentapi::StatusRequest* req,
                      contentapi::StatusResponse* resp) override;
  grpc::Status ListStatuses(grpc::ServerContext* ctx, const contentapi::ListStatusesRequest* req,
                            contentapi::ListStatusesResponse* resp) override;
  grpc::Status Write(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<contentapi::WriteContentResponse,
                                              contentapi::WriteContentRequest>* stream) override;
  grpc::Status Abort(grpc::ServerContext* ctx, const contentapi::AbortRequest* req,
                     google::protobuf::Empty* resp) override;

  static constexpr int kListBatch = 100;
  static constexpr size_t kReadChunk = 1 << 20;

 private:
  metadata::ContentStore& store_;
  events::Publisher& publisher_;
  GarbageCollector& gc_;  // a deleted blob's file goes once no namespace owns it
};

}  // namespace berth::services
