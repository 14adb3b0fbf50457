#include "events/exchange.h"

#include <algorithm>

#include "common/identifiers.h"
#include "common/logging.h"
#include "common/proto_adaptor.h"
#include "common/timeutil.h"

namespace berth::events {

google::protobuf::Any PackAny(const google::protobuf::Message& msg) {
  google::protobuf::Any any;
  any.set_type_url(msg.GetDescriptor()->full_name());
  msg.SerializeToString(any.mutable_value());
  return any;
}

Status ValidateTopic(std::string_view topic) {
  if (topic.empty()) return InvalidArgument("must not be empty");
  if (topic.front() != '/') return InvalidArgument("must start with '/'");
  if (topic.size() == 1) return InvalidArgument("must have at least one component");
  std::string_view rest = topic.substr(1);
  while (true) {
    auto slash = rest.find('/');
    std::string_view component = rest.substr(0, slash);
    Status st = identifiers::Validate(component);
    if (!st.ok()) return st.Wrap(fmt::format("failed validation on component {:?}", component));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return Status::Ok();
}

namespace {

Status ValidateEnvelope(const Envelope& env) {
  Status st = identifiers::Validate(env.namespace_());
  if (!st.ok()) return st.Wrap("event envelope has invalid namespace");
  st = ValidateTopic(env.topic());
  if (!st.ok()) return st.Wrap(fmt::format("envelope topic {:?}", env.topic()));
  if (!env.has_timestamp() || (env.timestamp().seconds() == 0 && env.timestamp().nanos() == 0)) {
    return InvalidArgument("timestamp must be set on forwarded event");
  }
  return Status::Ok();
}

}  // namespace

// ---- Subscription ----

Subscription::~Subscription() {
  if (exchange_ != nullptr) exchange_->Unsubscribe(this);
}

void Subscription::ClearLocked() {
  queue_.clear();
  if (exchange_ != nullptr) exchange_->queued_bytes_.fetch_sub(queued_bytes_);
  queued_bytes_ = 0;
}

void Subscription::Push(const Envelope& env, size_t cost) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    const ExchangeLimits& limits = exchange_->limits_;
    // An empty queue always takes one envelope, however big: a subscriber that keeps up is
    // never dropped for the size of a single event.
    if (!queue_.empty() && (queue_.size() >= limits.max_events || queued_bytes_ + cost > limits.max_bytes)) {
      closed_ = true;
      close_reason_ = Status(Errc::kResourceExhausted,
                             fmt::format("event subscriber fell too far behind ({} events, {} bytes queued) "
                                         "and was dropped",
                                         queue_.size(), queued_bytes_));
      ClearLocked();
    } else {
      queue_.push_back(Queued{env, cost});
      queued_bytes_ += cost;
      exchange_->queued_bytes_.fetch_add(cost);
    }
  }
  cv_.notify_all();
  if (notify_) notify_();
}

void Subscription::Close(Status reason) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_reason_ = std::move(reason);
  }
  cv_.notify_all();
  if (notify_) notify_();
}

void Subscription::Drop(Status reason) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_reason_ = std::move(reason);
    ClearLocked();
  }
  cv_.notify_all();
  if (notify_) notify_();
}

Subscription::Wait Subscription::Next(std::chrono::milliseconds timeout, Envelope* out) {
  std::unique_lock lock(mu_);
  if (timeout.count() > 0) cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  // Deliver what was queued before a close by the exchange, but not after an overflow.
  if (!queue_.empty()) {
    Queued& front = queue_.front();
    *out = std::move(front.envelope);
    queued_bytes_ -= front.cost;
    exchange_->queued_bytes_.fetch_sub(front.cost);
    queue_.pop_front();
    return Wait::kEvent;
  }
  return closed_ ? Wait::kClosed : Wait::kTimeout;
}

Status Subscription::CloseReason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
}

size_t Subscription::queued_bytes() const {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

// ---- Exchange ----

Exchange::~Exchange() { Close(); }

Status Exchange::Publish(std::string_view ns, std::string_view topic,
                         const google::protobuf::Message& event) {
  return PublishAny(ns, topic, PackAny(event));
}

Status Exchange::PublishAny(std::string_view ns, std::string_view topic,
                            const google::protobuf::Any& event) {
  Envelope env;
  SetTimestamp(env.mutable_timestamp(), ToUnixNanos(Clock::now()));
  env.set_namespace_(std::string(ns));
  env.set_topic(std::string(topic));
  *env.mutable_event() = event;
  Status st = Forward(env);
  if (!st.ok()) return st.Wrap("failed publishing event");
  return st;
}

Status Exchange::Forward(const Envelope& envelope) {
  BERTH_RETURN_IF_ERROR(ValidateEnvelope(envelope));
  log::Debug("event published", {{"namespace", envelope.namespace_()}, {"topic", envelope.topic()}});
  published_.fetch_add(1);
  if (observer_) observer_(envelope);
  const size_t cost = envelope.ByteSizeLong() + kQueuedEnvelopeOverhead;
  ProtoAdaptor adaptor(envelope);
  std::lock_guard lock(mu_);
  for (Subscription* sub : subscribers_) {
    if (sub->filter_ == nullptr || sub->filter_->Match(adaptor)) sub->Push(envelope, cost);
  }
  if (queued_bytes_.load() > limits_.max_total_bytes) ShedLocked();
  return Status::Ok();
}

void Exchange::ShedLocked() {
  while (queued_bytes_.load() > limits_.max_total_bytes) {
    Subscription* furthest = nullptr;
    size_t furthest_bytes = 0;
    for (Subscription* sub : subscribers_) {
      size_t bytes = sub->queued_bytes();
      if (bytes > furthest_bytes) {
        furthest = sub;
        furthest_bytes = bytes;
      }
    }
    if (furthest == nullptr) return;  // readers are taking the rest right now
    log::Warn("dropping the slowest event subscriber",
              {{"queued_bytes", furthest_bytes}, {"total_queued_bytes", queued_bytes_.load()},
               {"limit", limits_.max_total_bytes}});
    furthest->Drop(Status(Errc::kResourceExhausted,
                          fmt::format("event subscriber fell too far behind ({} bytes queued while all "
                                      "subscribers held more than {}) and was dropped",
                                      furthest_bytes, limits_.max_total_bytes)));
  }
}

size_t Exchange::subscribers() {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

std::unique_ptr<Subscription> Exchange::Subscribe(filters::FilterPtr filter, std::function<void()> notify) {
  std::unique_ptr<Subscription> sub(new Subscription(this, std::move(filter), std::move(notify)));
  std::lock_guard lock(mu_);
  if (closed_) {
    // Not through Close(): the notify callback never runs from inside Subscribe.
    std::lock_guard sub_lock(sub->mu_);
    sub->closed_ = true;
    sub->close_reason_ = Status(Errc::kUnavailable, "event exchange is shutting down");
  } else {
    subscribers_.push_back(sub.get());
  }
  return sub;
}

void Exchange::Unsubscribe(Subscription* sub) {
  std::lock_guard lock(mu_);
  subscribers_.remove(sub);
  std::lock_guard sub_lock(sub->mu_);
  sub->ClearLocked();
}

void Exchange::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (Subscription* sub : subscribers_) sub->Close(Status::Ok());
}

}  // namespace berth::events
