#include "services/events_service.h"

#include "common/filters.h"
#include "common/logging.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

grpc::Status EventsService::Publish(grpc::ServerContext* ctx, const evapi::PublishRequest* req,
                                    google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply {
    auto ns = RequireNamespace(*ctx);
    if (!ns.ok()) return ns.status().Wrap("failed publishing event");
    return exchange_.PublishAny(*ns, req->topic(), req->event());
  });
}

grpc::Status EventsService::Forward(grpc::ServerContext* /*ctx*/, const evapi::ForwardRequest* req,
                                    google::protobuf::Empty* /*resp*/) {
  return Serve([&]() -> Reply { return exchange_.Forward(req->envelope()); });
}

grpc::Status EventsService::Subscribe(grpc::ServerContext* ctx, const evapi::SubscribeRequest* req,
                                      grpc::ServerWriter<evapi::Envelope>* writer) {
  return Serve([&]() -> Reply {
    BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(req->filters()));
    auto sub = exchange_.Subscribe(filter);
    log::Debug("events subscriber joined", {{"filters", req->filters_size()}});
    // The sync API gives no wake-up on cancellation, so waits are bounded and re-check it.
    evapi::Envelope env;
    while (!ctx->IsCancelled()) {
      switch (sub->Next(std::chrono::milliseconds(200), &env)) {
        case events::Subscription::Wait::kEvent:
          if (!writer->Write(env)) return {};  // client went away
          break;
        case events::Subscription::Wait::kTimeout:
          break;
        case events::Subscription::Wait::kClosed: {
          Status why = sub->CloseReason();
          if (why.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "berthd is shutting down");
          return why;
        }
      }
    }
    return {};
  });
}

}  // namespace berth::services
