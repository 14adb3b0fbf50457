// containerd.services.events.v1.Events: Publish (in the caller's namespace), Forward
// (complete envelopes, from shims), Subscribe (a server stream, with filters).
#pragma once

#include <atomic>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"

namespace berth::services {

namespace evapi = containerd::services::events::v1;

// Thread-safe: gRPC calls its methods from many handler threads at once; it holds only references
// to thread-safe components.
class EventsService final : public evapi::Events::Service {
 public:
  explicit EventsService(events::Exchange& exchange) : exchange_(exchange) {}

  grpc::Status Publish(grpc::ServerContext* ctx, const evapi::PublishRequest* req,
                       google::protobuf::Empty* resp) override;
  grpc::Status Forward(grpc::ServerContext* ctx, const evapi::ForwardRequest* req,
                       google::protobuf::Empty* resp) override;
  grpc::Status Subscribe(grpc::ServerContext* ctx, const evapi::SubscribeRequest* req,
                         grpc::ServerWriter<evapi::Envelope>* writer) override;

 private:
  events::Exchange& exchange_;
};

}  // namespace berth::services
