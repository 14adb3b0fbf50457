// A small HTTP/1.1 server on Boost.Beast for berthd's side doors (the [debug] address now): on a
// unix socket ("/path", mode 0660) or TCP ("host:port"). One thread runs the io_context. Each
// connection gets one request, read under a deadline with a body limit (a slow, stuck or
// oversized client cannot hold the server or grow it), and is closed after the answer.
// Routes are exact paths (the query string is ignored); other paths answer 404, methods other
// than GET and HEAD 405.
//
// Thread-safety: Start and the destructor belong to one owner; handlers run on the server's
// own thread, one at a time, and must be quick.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace berth::http {

struct Request {
  std::string method;
  std::string path;  // the target without its query
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;
using Routes = std::map<std::string, Handler>;

class Server {
 public:
  struct Options {
    int64_t uid = 0, gid = 0;  // owner of a unix socket (0:0: as made)
  };
  // InvalidArgument for an address that is neither an absolute path nor host:port;
  // Unavailable when it cannot be bound. A stale unix socket at the path is replaced.
  static Result<std::unique_ptr<Server>> Start(const std::string& address, Routes routes, Options options);
  ~Server();  // stops accepting, ends connections, joins the thread, removes a unix socket
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (0 for a unix socket).
  int port() const { return port_; }

  class Impl;

 private:
  Server() = default;
  static Result<std::unique_ptr<Server>> StartOrThrow(const std::string& address, Routes routes, Options options);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace berth::http
