// The event exchange: publishes events in envelopes and fans them out to subscribers,
// each with its own filter and queue. Publishing never blocks on a slow subscriber, and what
// slow subscribers hold is bounded three ways: a subscriber more than `max_events` events or
// `max_bytes` bytes behind is dropped (closed with ResourceExhausted, its queue freed), and when
// all queues together pass `max_total_bytes` the subscribers furthest behind are dropped until
// they fit again. (containerd's exchange queues without bound: go-events' Queue.)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstddef>
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

// How far subscribers may fall behind. A queued envelope counts its encoded size plus
// kQueuedEnvelopeOverhead (the message objects and the queue's own bookkeeping).
struct ExchangeLimits {
  size_t max_events = 65536;               // per subscriber
  size_t max_bytes = 16u << 20;            // per subscriber
  size_t max_total_bytes = 64u << 20;      // all subscribers together
};
inline constexpr size_t kQueuedEnvelopeOverhead = 256;

class Exchange;

// Thread-safe: Next and CloseReason may be called from any thread while publishers push into it
// (one mutex); meant for one reader.
class Subscription {
 public:
  enum class Wait { kEvent, kTimeout, kClosed };
  ~Subscription();  // unsubscribes: once it returns, the notify callback no longer runs
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Waits up to `timeout` (zero: not at all) for the next matching envelope.
  Wait Next(std::chrono::milliseconds timeout, Envelope* out);
  // Why the subscription was closed (ok when by Close() of the exchange).
  Status CloseReason() const;
  // Bytes waiting in the queue (as the limits count them).
  size_t queued_bytes() const;

 private:
  friend class Exchange;
  struct Queued {
    Envelope envelope;
    size_t cost = 0;
  };
  Subscription(Exchange* exchange, filters::FilterPtr filter, std::function<void()> notify)
      : exchange_(exchange), filter_(std::move(filter)), notify_(std::move(notify)) {}
  // Exchange lock held (both).
  void Push(const Envelope& env, size_t cost);
  void Close(Status reason);
  // Closes with `reason` and frees the queue (a dropped subscriber gets nothing more).
  void Drop(Status reason);
  // Sub lock held: empties the queue, taking its bytes off the exchange's total.
  void ClearLocked();

  Exchange* exchange_;
  filters::FilterPtr filter_;
  const std::function<void()> notify_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  bool closed_ = false;
  Status close_reason_;
};

// Thread-safe: all methods may be called concurrently, except SetObserver (before events flow).
class Exchange final : public Publisher {
 public:
  static constexpr size_t kMaxQueued = ExchangeLimits{}.max_events;

  explicit Exchange(ExchangeLimits limits = {}) : limits_(limits) {}
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

  // `notify`, if given, runs each time an envelope is queued for this subscriber and when the
  // subscription is closed (also when it is dropped), on the publishing (or closing) thread
  // with the exchange's lock held: it must be quick and must not call into the exchange (nor
  // destroy a Subscription); taking the subscription's Next is fine. It never runs from inside
  // Subscribe itself.
  std::unique_ptr<Subscription> Subscribe(filters::FilterPtr filter, std::function<void()> notify = {});

  // Closes every subscription (on shutdown); later publishes still succeed but reach nobody.
  void Close();

  // Called with every envelope forwarded (telemetry); set once, before events flow.
  void SetObserver(std::function<void(const Envelope&)> observer) { observer_ = std::move(observer); }
  // Envelopes forwarded since start, and subscriptions open now.
  uint64_t published() const { return published_.load(); }
  size_t subscribers();
  // Bytes queued for all subscribers together (as the limits count them).
  size_t queued_bytes() const { return queued_bytes_.load(); }
  const ExchangeLimits& limits() const { return limits_; }

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* sub);
  // Exchange lock held: drops the subscribers furthest behind until the total fits.
  void ShedLocked();

  const ExchangeLimits limits_;
  std::mutex mu_;
  std::list<Subscription*> subscribers_;
  bool closed_ = false;
  std::function<void(const Envelope&)> observer_;
  std::atomic<uint64_t> published_{0};
  std::atomic<size_t> queued_bytes_{0};  // sum of the subscriptions' queued_bytes_
};

}  // namespace berth::events
