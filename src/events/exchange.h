// The event exchange: publishes events in envelopes and fans them out to subscribers,
// each with its own filter and queue. Publishing never blocks on a slow subscriber; a
// subscriber that falls more than kMaxQueued events behind is closed with an error
// instead of growing without bound.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include "common/filters.h"
#include "common/status.h"
#include "github.com/containerd/containerd/api/services/events/v1/events.pb.h"

namespace berth::events {

using Envelope = containerd::services::events::v1::Envelope;

// Packs a message as containerd's typeurl does: type_url is the bare full name.
google::protobuf::Any PackAny(const google::protobuf::Message& msg);

// InvalidArgument unless `topic` is "/" followed by '/'-separated identifiers.
Status ValidateTopic(std::string_view topic);

// What components publish through: the exchange, or a fake in tests.
// Thread-safety: implementations must be thread-safe; components publish from any thread.
class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual Status Publish(std::string_view ns, std::string_view topic,
                         const google::protobuf::Message& event) = 0;
};

class Exchange;

// Thread-safe: Next and CloseReason may be called from any thread while publishers push into it
// (one mutex); meant for one reader.
class Subscription {
 public:
  enum class Wait { kEvent, kTimeout, kClosed };
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Waits up to `timeout` for the next matching envelope.
  Wait Next(std::chrono::milliseconds timeout, Envelope* out);
  // Why the subscription was closed (ok when by Close() of the exchange).
  Status CloseReason() const;

 private:
  friend class Exchange;
  Subscription(Exchange* exchange, filters::FilterPtr filter)
      : exchange_(exchange), filter_(std::move(filter)) {}
  void Push(const Envelope& env);
  void Close(Status reason);

  Exchange* exchange_;
  filters::FilterPtr filter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Envelope> queue_;
  bool closed_ = false;
  Status close_reason_;
};

// Thread-safe: all methods may be called concurrently, except SetObserver (before events flow).
class Exchange final : public Publisher {
 public:
  static constexpr size_t kMaxQueued = 65536;

  Exchange() = default;
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Wraps `event` in an envelope stamped now, in namespace `ns`, and forwards it.
  Status Publish(std::string_view ns, std::string_view topic,
                 const google::protobuf::Message& event) override;
  // Publishes an already packed payload (the Events/Publish RPC).
  Status PublishAny(std::string_view ns, std::string_view topic, const google::protobuf::Any& event);
  // Broadcasts a complete envelope (from a shim or another publisher) after validating it.
  Status Forward(const Envelope& envelope);

  std::unique_ptr<Subscription> Subscribe(filters::FilterPtr filter);

  // Closes every subscription (on shutdown); later publishes still succeed but reach nobody.
  void Close();

  // Called with every envelope forwarded (telemetry); set once, before events flow.
  void SetObserver(std::function<void(const Envelope&)> observer) { observer_ = std::move(observer); }
  // Envelopes forwarded since start, and subscriptions open now.
  uint64_t published() const { return published_.load(); }
  size_t subscribers();

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* sub);

  std::mutex mu_;
  std::list<Subscription*> subscribers_;
  bool closed_ = false;
  std::function<void(const Envelope&)> observer_;
  std::atomic<uint64_t> published_{0};
};

}  // namespace berth::events
