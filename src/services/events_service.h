// containerd.services.events.v1.Events: Publish (in the caller's namespace), Forward
// (complete envelopes, from shims), Subscribe (a server stream, with filters).
#pragma once

#include <memory>

#include "events/exchange.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.grpc.pb.h"

namespace berth::services {

namespace evapi = containerd::services::events::v1;

class SubscribePump;

// Publish and Forward are synchronous handlers; Subscribe is a callback (reactor) stream, so a
// subscriber holds no thread while it waits for events or does not read them: each stream
// writes one envelope at a time as the client takes them, the rest wait in its subscription's
// bounded queue (events::ExchangeLimits), and a subscriber that falls too far behind is ended
// with RESOURCE_EXHAUSTED. One thread of the service's own starts the writes of streams that
// were idle when an event came.
//
// Thread-safe: gRPC calls its methods from many threads at once; it holds a reference to the
// thread-safe exchange. Destroyed only after the gRPC server has shut down.
class EventsService final : public evapi::Events::WithCallbackMethod_Subscribe<evapi::Events::Service> {
 public:
  using Base = evapi::Events::WithCallbackMethod_Subscribe<evapi::Events::Service>;
  // The synchronous Subscribe stays declared (the base's, which is never called); ours is the
  // callback one.
  using Base::Subscribe;

  explicit EventsService(events::Exchange& exchange);
  ~EventsService() override;

  grpc::Status Publish(grpc::ServerContext* ctx, const evapi::PublishRequest* req,
                       google::protobuf::Empty* resp) override;
  grpc::Status Forward(grpc::ServerContext* ctx, const evapi::ForwardRequest* req,
                       google::protobuf::Empty* resp) override;
  grpc::ServerWriteReactor<evapi::Envelope>* Subscribe(grpc::CallbackServerContext* ctx,
                                                       const evapi::SubscribeRequest* req) override;

 private:
  events::Exchange& exchange_;
  std::unique_ptr<SubscribePump> pump_;
};

}  // namespace berth::services
