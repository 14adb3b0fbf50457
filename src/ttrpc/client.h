// ttrpc client: one unix-socket connection, many outstanding calls multiplexed by stream id.
// The connection's reading happens on an EventLoop; CallAsync may be used from any thread
// (callbacks run on the loop thread), Call() blocks the calling thread and must not be used on
// the loop thread. berthd keeps one loop thread for all its shim connections.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "common/status.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/wire.h"

namespace berth::ttrpc {

struct CallOptions {
  Metadata metadata;
  // 0: no deadline. Sent as timeout_nano and enforced locally (DeadlineExceeded).
  std::chrono::milliseconds timeout{0};
};

// CallOptions with the containerd namespace set.
CallOptions WithNamespace(std::string_view ns, std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

// Thread-safe: every method may be called from any thread, except Call (blocking) on the loop
// thread; callbacks run on the loop thread.
class Client : public std::enable_shared_from_this<Client> {
 public:
  using Callback = std::function<void(Status status, std::string payload)>;

  // `address`: a socket path, "unix://path", or "unix:path"; a leading '@' (after the scheme)
  // means the abstract namespace, as containerd's shim addresses may be. Connecting is
  // synchronous (bounded by `timeout`); Unavailable if nobody listens.
  static Result<std::shared_ptr<Client>> Connect(EventLoop& loop, std::string_view address,
                                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~Client();

  // Any thread. The callback runs exactly once on the loop thread: with the response payload,
  // the server's error, DeadlineExceeded, or Unavailable once the connection is closed.
  void CallAsync(std::string_view service, std::string_view method, std::string payload,
                 const CallOptions& opts, Callback cb);

  // Blocking typed call (not on the loop thread).
  Status Call(std::string_view service, std::string_view method,
              const google::protobuf::Message& req, google::protobuf::Message* resp,
              const CallOptions& opts = {});

  // Any thread: closes the connection; outstanding calls fail Unavailable.
  void Close();
  bool closed() const;
  // Runs on the loop thread once when the connection closes (by either side).
  void OnClose(std::function<void()> fn);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::ttrpc
