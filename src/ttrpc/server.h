// ttrpc server on an EventLoop: accepts unix-socket connections, decodes requests, dispatches
// them to handlers by (service, method), writes responses. Handlers run on the loop thread and
// may answer later (a Responder is movable and can be kept): that is how a single-threaded shim
// serves a blocking Wait while it goes on serving everything else. Several requests of one
// connection may be outstanding at once; responses go out in whatever order they complete.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "common/status.h"
#include "common/unique_fd.h"
#include "ttrpc/event_loop.h"
#include "ttrpc/wire.h"

namespace berth::ttrpc {

struct CallContext {
  std::string service;
  std::string method;
  Metadata metadata;
  int64_t timeout_nano = 0;
  // The value of kNamespaceKey, or "" when the caller sent none.
  std::string Namespace() const;
};

// Answers one request, once. Answering after the connection closed is a harmless no-op.
// Destroying an unanswered Responder answers Internal (so a caller never hangs forever).
// Thread-compatible: may be answered from any thread (off the loop the reply is posted to it), but
// by one thread at a time.
class Responder {
 public:
  Responder() = default;
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  ~Responder();

  void Reply(const google::protobuf::Message& response);
  void Fail(const Status& status);  // !status.ok()
  bool answered() const;

 private:
  friend class Server;
  struct State;
  explicit Responder(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// Not thread-safe: loop thread only (or before the loop runs), like the handlers it calls.
class Server {
 public:
  using Handler = std::function<void(const CallContext& ctx, std::string_view payload, Responder responder)>;

  explicit Server(EventLoop& loop);
  ~Server();  // closes listeners and connections
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loop thread (or before the loop runs). An unknown service/method answers Unimplemented
  // (gRPC code 12) as ttrpc does.
  void Register(std::string service, std::string method, Handler handler);

  // Typed synchronous handler: decode Req (InvalidArgument if it does not parse), call, encode.
  template <typename Req, typename Resp>
  void RegisterUnary(std::string service, std::string method,
                     std::function<Result<Resp>(const CallContext&, const Req&)> fn) {
    Register(std::move(service), std::move(method),
             [fn = std::move(fn)](const CallContext& ctx, std::string_view payload, Responder r) {
               Req req;
               if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
                 r.Fail(Status(Errc::kInvalidArgument, "cannot decode request"));
                 return;
               }
               Result<Resp> out = fn(ctx, req);
               if (out.ok()) r.Reply(*out); else r.Fail(out.status());
             });
  }

  // Serves an already listening socket.
  Status Serve(UniqueFd listener);
  // Creates, binds (mode 0600 unless `mode` given) and serves a unix socket at `path`;
  // an existing socket file there is replaced.
  Status Listen(const std::string& path, unsigned mode = 0600);
  // Stops accepting and closes every connection (outstanding Responders become no-ops).
  void Close();

  size_t connection_count() const;
  // Called on the loop thread whenever a connection closes (the shim uses it to notice
  // that its daemon went away).
  void OnConnectionClosed(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::ttrpc
