#include "shim/publisher.h"

#include "common/logging.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"

namespace berth::shim {

void PackAny(const google::protobuf::Message& m, google::protobuf::Any* out) {
  out->set_type_url(m.GetDescriptor()->full_name());
  m.SerializeToString(out->mutable_value());
}

Publisher::Publisher(ttrpc::EventLoop& loop, std::string address, std::string ns)
    : loop_(loop), address_(std::move(address)), ns_(std::move(ns)) {}

Publisher::~Publisher() { Close(); }

void Publisher::Close() {
  closed_ = true;
  *alive_ = false;
  if (retry_timer_ != 0) loop_.CancelTimer(retry_timer_);
  retry_timer_ = 0;
  if (client_) client_->Close();
  client_.reset();
}

void Publisher::Publish(const std::string& topic, const google::protobuf::Message& event) {
  if (closed_ || address_.empty()) return;
  if (queue_.size() >= kMaxQueued) {
    log::Warn("event queue full, dropping event", {{"topic", topic}});
    return;
  }
  Item item{topic, Clock::now(), {}};
  PackAny(event, &item.event);
  queue_.push_back(std::move(item));
  Kick();
}

void Publisher::Kick() {
  if (in_flight_ || retry_timer_ != 0 || queue_.empty() || closed_) return;
  SendFront();
}

void Publisher::SendFront() {
  if (!client_ || client_->closed()) {
    auto c = ttrpc::Client::Connect(loop_, address_, std::chrono::seconds(1));
    if (!c.ok()) {
      Retry();
      return;
    }
    client_ = *c;
  }
  const Item& item = queue_.front();
  containerd::services::events::ttrpc::v1::ForwardRequest req;
  auto* env = req.mutable_envelope();
  *env->mutable_timestamp() = ToProto(item.at);
  env->set_namespace_(ns_);
  env->set_topic(item.topic);
  *env->mutable_event() = item.event;
  in_flight_ = true;
  std::weak_ptr<bool> alive = alive_;
  client_->CallAsync("containerd.services.events.ttrpc.v1.Events", "Forward", req.SerializeAsString(),
                     ttrpc::WithNamespace(ns_, std::chrono::seconds(5)),
                     [this, alive](Status st, std::string) {
                       auto a = alive.lock();
                       if (!a || !*a) return;
                       in_flight_ = false;
                       if (st.ok() || !(st.Is(Errc::kUnavailable) || st.Is(Errc::kDeadlineExceeded))) {
                         if (!st.ok()) {
                           log::Warn("post event", {{"topic", queue_.front().topic}, {"error", st.ToString()}});
                         }
                         queue_.pop_front();
                         backoff_ = std::chrono::milliseconds(50);
                         Kick();
                         return;
                       }
                       if (client_) client_->Close();
                       client_.reset();
                       Retry();
                     });
}

void Publisher::Retry() {
  if (closed_) return;
  auto delay = backoff_;
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  retry_timer_ = loop_.AddTimer(delay, [this] {
    retry_timer_ = 0;
    Kick();
  });
}

}  // namespace berth::shim
