// A small HTTP/1.1 server on 127.0.0.1 for the registry client's unit tests: one thread, one
// request per connection (answers say "Connection: close"), a handler that builds each answer,
// and every request kept for the test to look at.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace berth::remotes::fakehttp {

struct FakeRequest {
  std::string method;
  std::string target;                         // as sent: path and query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const;  // "" when absent
  std::string Path() const;                           // the target without its query
};

struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // not sent for HEAD; Content-Length always is
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  // "127.0.0.1:<port>" and "http://127.0.0.1:<port>".
  std::string host() const;
  std::string origin() const { return "http://" + host(); }
  std::vector<FakeRequest> requests() const;

 private:
  void Serve();
  void HandleConnection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

}  // namespace berth::remotes::fakehttp
