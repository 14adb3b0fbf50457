// Task events back to the daemon: containerd.services.events.ttrpc.v1.Events/Forward on the
// daemon's ttrpc socket (TTRPC_ADDRESS), namespace in the ttrpc metadata. The loop never waits
// for the daemon: events go into a bounded queue and are sent one at a time (order kept);
// while the daemon is unreachable (restarting) sending is retried with backoff.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include "common/timeutil.h"
#include "ttrpc/client.h"
#include "ttrpc/event_loop.h"

namespace berth::shim {

// Not thread-safe: berth-shim's one loop thread only.
class Publisher {
 public:
  static constexpr size_t kMaxQueued = 1024;

  Publisher(ttrpc::EventLoop& loop, std::string address, std::string ns);
  ~Publisher();

  // Queues `event` under `topic` ("/tasks/exit"), stamped now. A full queue drops the event.
  void Publish(const std::string& topic, const google::protobuf::Message& event);
  bool idle() const { return queue_.empty(); }
  // Stops sending (outstanding calls are abandoned).
  void Close();

 private:
  struct Item {
    std::string topic;
    TimePoint at;
    google::protobuf::Any event;
  };
  void Kick();
  void SendFront();
  void Retry();

  ttrpc::EventLoop& loop_;
  std::string address_, ns_;
  std::shared_ptr<ttrpc::Client> client_;
  std::deque<Item> queue_;
  bool in_flight_ = false, closed_ = false;
  ttrpc::EventLoop::TimerId retry_timer_ = 0;
  std::chrono::milliseconds backoff_{50};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// An Any as containerd's typeurl packs it: the bare proto full name as the type URL.
void PackAny(const google::protobuf::Message& m, google::protobuf::Any* out);

}  // namespace berth::shim
