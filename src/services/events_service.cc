#include "services/events_service.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/filters.h"
#include "common/logging.h"
#include "services/grpc_status.h"
#include "services/request_context.h"

namespace berth::services {

class SubscribeReactor;

// Runs the first step of streams that an event (or a close) found idle, on a thread of its
// own. The exchange notifies with its lock held, and gRPC may run a new call's handler inline
// in any call made into it (a new subscriber, whose handler takes that lock): so nothing calls
// gRPC from a notification, and no lock is held across a call into gRPC.
//
// Thread-safe: Post from any thread; the steps run on the pump's thread.
class SubscribePump {
 public:
  SubscribePump() : thread_([this] { Run(); }) {}
  ~SubscribePump();
  SubscribePump(const SubscribePump&) = delete;
  SubscribePump& operator=(const SubscribePump&) = delete;

  // Takes over a reference to `reactor` (released after its step).
  void Post(SubscribeReactor* reactor);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SubscribeReactor*> ready_;  // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::thread thread_;                   // last: starts once the rest is built
};

// One Subscribe stream. Events reach it through the subscription's notify callback and leave
// it one at a time: the next write starts when the previous one is done (OnWriteDone, on a gRPC
// thread), so an envelope the client has not taken stays in the subscription's bounded queue,
// not in gRPC's buffers. A stream that was idle is started by the pump.
//
// Exactly one StartWrite is in flight at a time, and Finish comes once, after any write was
// issued (the thread that marks writing_ issues the write; the call's end waits for that write's
// OnWriteDone).
//
// Thread-safe: mu_ guards the state and is never held while calling gRPC or the exchange.
// Lock order: exchange → mu_ → subscription. Lifetime: a reference for gRPC (dropped in
// OnDone) and one per pending pump step.
class SubscribeReactor final : public grpc::ServerWriteReactor<evapi::Envelope> {
 public:
  SubscribeReactor(events::Exchange& exchange, SubscribePump& pump, const evapi::SubscribeRequest& req)
      : pump_(pump) {
    auto filter = filters::ParseAll(req.filters());
    if (!filter.ok()) {
      grpc::Status status = ToGrpc(filter.status());
      {
        std::lock_guard lock(mu_);
        finishing_ = true;
        finish_code_ = static_cast<int>(status.error_code());
      }
      Finish(std::move(status));
      return;
    }
    // A notification may come before sub_ is set: it finds no subscription, and the step
    // below takes what was queued meanwhile.
    auto sub = exchange.Subscribe(std::move(*filter), [this] { Notify(); });
    {
      std::lock_guard lock(mu_);
      sub_ = std::move(sub);
    }
    log::Debug("events subscriber joined", {{"filters", req.filters_size()}});
    Step();
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok || cancelled_) {
        // The client went away or the call was cancelled: the call ends now.
        if (finishing_) return;
        finishing_ = true;
        finish_code_ = static_cast<int>(grpc::StatusCode::CANCELLED);
        finish = true;
      }
    }
    if (finish) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "events subscriber went away"));
      return;
    }
    Step();
  }

  void OnCancel() override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      // A write in flight ends (not ok) and its OnWriteDone finishes the call.
      if (writing_ || finishing_) return;
      finishing_ = true;
      finish_code_ = static_cast<int>(grpc::StatusCode::CANCELLED);
    }
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "events subscriber went away"));
  }

  void OnDone() override {
    std::unique_ptr<events::Subscription> sub;
    int code = 0;
    {
      std::lock_guard lock(mu_);
      sub = std::move(sub_);  // a step from here on finds none
      code = finish_code_;
    }
    // Unsubscribing takes the exchange's lock: a notification running now ends first, and none
    // starts after.
    sub.reset();
    log::Debug("events subscriber left", {{"status", code}});
    Unref();
  }

  // The pump's step: what Notify handed over.
  void PumpStep() {
    {
      std::lock_guard lock(mu_);
      posted_ = false;
    }
    Step();
  }

  // Starts the next write, or the finish once the subscription is closed and drained, unless
  // one is under way. Never with a lock held.
  void Step() {
    grpc::Status status;
    bool start_write = false;
    {
      std::lock_guard lock(mu_);
      if (writing_ || finishing_ || sub_ == nullptr) return;
      switch (sub_->Next(std::chrono::milliseconds(0), &env_)) {
        case events::Subscription::Wait::kEvent:
          writing_ = true;
          start_write = true;
          break;
        case events::Subscription::Wait::kTimeout:
          return;
        case events::Subscription::Wait::kClosed: {
          Status why = sub_->CloseReason();
          status = why.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "berthd is shutting down") : ToGrpc(why);
          finishing_ = true;
          finish_code_ = static_cast<int>(status.error_code());
          break;
        }
      }
    }
    if (start_write) {
      StartWrite(&env_);  // env_ is left alone until OnWriteDone
    } else {
      Finish(std::move(status));
    }
  }

  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

 private:
  // The subscription's notify callback: the exchange's lock is held, so it only hands an idle
  // stream to the pump.
  void Notify() {
    {
      std::lock_guard lock(mu_);
      if (posted_ || writing_ || finishing_ || sub_ == nullptr) return;
      posted_ = true;
    }
    refs_.fetch_add(1);
    pump_.Post(this);
  }

  SubscribePump& pump_;
  std::atomic<int> refs_{1};  // gRPC's, until OnDone
  std::mutex mu_;
  std::unique_ptr<events::Subscription> sub_;  // guarded by mu_
  evapi::Envelope env_;                        // the envelope being written (by the writing_ owner)
  bool writing_ = false;                       // guarded by mu_: a write issued or being issued
  bool finishing_ = false;                     // guarded by mu_: Finish issued or being issued
  bool cancelled_ = false;                     // guarded by mu_
  bool posted_ = false;                        // guarded by mu_: a pump step is pending
  int finish_code_ = 0;                        // guarded by mu_
};

SubscribePump::~SubscribePump() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SubscribePump::Post(SubscribeReactor* reactor) {
  {
    std::lock_guard lock(mu_);
    ready_.push_back(reactor);
  }
  cv_.notify_one();
}

void SubscribePump::Run() {
  for (;;) {
    SubscribeReactor* reactor = nullptr;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;  // stopping, and nothing left to release
      reactor = ready_.front();
      ready_.pop_front();
    }
    reactor->PumpStep();
    reactor->Unref();
  }
}

EventsService::EventsService(events::Exchange& exchange)
    : exchange_(exchange), pump_(std::make_unique<SubscribePump>()) {}

EventsService::~EventsService() = default;

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

grpc::ServerWriteReactor<evapi::Envelope>* EventsService::Subscribe(grpc::CallbackServerContext* /*ctx*/,
                                                                    const evapi::SubscribeRequest* req) {
  return new SubscribeReactor(exchange_, *pump_, *req);
}

}  // namespace berth::services
