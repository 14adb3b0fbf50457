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

void Subscription::Push(const Envelope& env) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (queue_.size() >= Exchange::kMaxQueued) {
      closed_ = true;
      close_reason_ = Status(Errc::kResourceExhausted,
                             "event subscriber fell too far behind and was dropped");
      queue_.clear();
    } else {
      queue_.push_back(env);
    }
  }
  cv_.notify_one();
}

void Subscription::Close(Status reason) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_reason_ = std::move(reason);
  }
  cv_.notify_all();
}

Subscription::Wait Subscription::Next(std::chrono::milliseconds timeout, Envelope* out) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  // Deliver what was queued before a close by the exchange, but not after an overflow.
  if (!queue_.empty()) {
    *out = std::move(queue_.front());
    queue_.pop_front();
    return Wait::kEvent;
  }
  return closed_ ? Wait::kClosed : Wait::kTimeout;
}

Status Subscription::CloseReason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
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
  ProtoAdaptor adaptor(envelope);
  std::lock_guard lock(mu_);
  for (Subscription* sub : subscribers_) {
    if (sub->filter_ == nullptr || sub->filter_->Match(adaptor)) sub->Push(envelope);
  }
  return Status::Ok();
}

size_t Exchange::subscribers() {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

std::unique_ptr<Subscription> Exchange::Subscribe(filters::FilterPtr filter) {
  std::unique_ptr<Subscription> sub(new Subscription(this, std::move(filter)));
  std::lock_guard lock(mu_);
  if (closed_) {
    sub->Close(Status(Errc::kUnavailable, "event exchange is shutting down"));
  } else {
    subscribers_.push_back(sub.get());
  }
  return sub;
}

void Exchange::Unsubscribe(Subscription* sub) {
  std::lock_guard lock(mu_);
  subscribers_.remove(sub);
}

void Exchange::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (Subscription* sub : subscribers_) sub->Close(Status::Ok());
}

}  // namespace berth::events
