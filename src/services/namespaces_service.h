// containerd.services.namespaces.v1.Namespaces over the metadata DB, with containerd 1.6's
// semantics (Get of an unknown namespace answers it with no labels; Update with a mask
// takes only "labels.<key>" paths; Delete refuses a namespace that still holds objects).
#pragma once

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/namespaces/v1/namespace.grpc.pb.h"
#include "metadata/db.h"

namespace berth::services {

namespace nsapi = containerd::services::namespaces::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class NamespacesService final : public nsapi::Namespaces::Service {
 public:
  NamespacesService(metadata::Db& db, events::Publisher& publisher)
      : db_(db), publisher_(publisher) {}

  grpc::Status Get(grpc::ServerContext* ctx, const nsapi::GetNamespaceRequest* req,
                   nsapi::GetNamespaceResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const nsapi::ListNamespacesRequest* req,
                    nsapi::ListNamespacesResponse* resp) override;
  grpc::Status Create(grpc::ServerContext* ctx, const nsapi::CreateNamespaceRequest* req,
                      nsapi::CreateNamespaceResponse* resp) override;
  grpc::Status Update(grpc::ServerContext* ctx, const nsapi::UpdateNamespaceRequest* req,
                      nsapi::UpdateNamespaceResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const nsapi::DeleteNamespaceRequest* req,
                      google::protobuf::Empty* resp) override;

 private:
  // Events go to the caller's namespace, or the namespace itself when the caller named none.
  void PublishEvent(const grpc::ServerContext& ctx, const std::string& ns, std::string_view topic,
                    const google::protobuf::Message& event);

  metadata::Db& db_;
  events::Publisher& publisher_;
};

}  // namespace berth::services
