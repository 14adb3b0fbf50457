// A small HTTP/1.1 server on Boost.Beast for berthd's side doors (the [debug] address, the REST
// API): on a unix socket ("/path", mode 0660) or TCP ("host:port"). One io thread reads every
// request under a deadline with header and body limits (a slow, stuck or oversized client cannot
// hold the server or grow it); handlers run on a small pool of worker threads (or inline on the
// io thread for quick ones), so a slow handler holds back only requests queued behind it.
// One request per connection; the connection closes after the answer. A handler may answer with
// a stream (chunked; GET /events): its producer runs on a thread of its own until the client
// goes away, the producer returns or the server stops.
//
// Thread-safety: Start and the destructor belong to one owner; handlers may run on several worker
// threads at once; a Stream may be written from any one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::http {

struct Request {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // the target without its query, not decoded
  std::string query;   // after '?', raw
  std::string body;
  std::string content_type;

  // A query parameter, percent-decoded (the first of that name), or `fallback`.
  std::string QueryParam(std::string_view name, std::string fallback = "") const;
};

// The body of a streaming answer, sent as HTTP chunks.
class Stream {
 public:
  virtual ~Stream() = default;
  // Sends one chunk; false once the client has gone (or did not read for the write deadline),
  // or the server is stopping. Blocks until the chunk is written.
  virtual bool Write(std::string data) = 0;
  // True once Write would fail: lets an idle producer notice a client that hung up.
  virtual bool closed() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Set for a streaming answer: `body` is ignored; the producer runs on its own thread after
  // the headers are sent and the response ends when it returns.
  std::function<void(Stream&)> stream;
};

using Handler = std::function<Response(const Request&)>;
using Routes = std::map<std::string, Handler>;

// Exact paths, GET only (404 for other paths, 405 for other methods): the debug endpoints.
Handler ExactGetRoutes(Routes routes);

class Server {
 public:
  struct Options {
    int64_t uid = 0, gid = 0;  // owner of a unix socket (0:0: as made)
    int workers = 0;           // threads running handlers; 0: on the io thread (quick handlers only)
    uint64_t body_limit = 64 * 1024;
    int max_streams = 64;  // streaming answers at once; more get 503
    bool json_errors = false;  // the server's own errors (400, 413, 500, 503) as {"error": ...}
  };
  // InvalidArgument for an address that is neither an absolute path nor host:port;
  // Unavailable when it cannot be bound. A stale unix socket at the path is replaced.
  static Result<std::unique_ptr<Server>> Start(const std::string& address, Handler handler, Options options);
  static Result<std::unique_ptr<Server>> Start(const std::string& address, Routes routes, Options options) {
    return Start(address, ExactGetRoutes(std::move(routes)), options);
  }
  // Stops accepting, ends connections and streams (their producers see Write fail), joins every
  // thread, removes a unix socket.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (0 for a unix socket).
  int port() const { return port_; }

  class Impl;

 private:
  Server() = default;
  static Result<std::unique_ptr<Server>> StartOrThrow(const std::string& address, Handler handler, Options options);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// The plain-text answer for a status (a handler's shorthand).
inline Response TextResponse(int status, std::string body) {
  return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

}  // namespace berth::http
