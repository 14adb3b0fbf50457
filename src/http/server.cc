#include "http/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace berth::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kDeadline = std::chrono::seconds(10);  // to send a whole request
constexpr uint64_t kBodyLimit = 64 * 1024;

// One connection: one request, one answer, closed.
template <class Protocol>
class Session : public std::enable_shared_from_this<Session<Protocol>> {
 public:
  Session(typename Protocol::socket socket, const Routes& routes) : stream_(std::move(socket)), routes_(routes) {}

  void Run() {
    parser_.body_limit(kBodyLimit);
    parser_.header_limit(16 * 1024);
    stream_.expires_after(kDeadline);
    bhttp::async_read(stream_, buffer_, parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return Close();
    }
    Response r;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      r = Response{413, "text/plain; charset=utf-8", "request too large\n"};
    } else if (ec) {
      r = Response{400, "text/plain; charset=utf-8", "bad request: " + ec.message() + "\n"};
    } else {
      r = Dispatch(parser_.get());
    }
    res_.result(static_cast<unsigned>(r.status));
    res_.version(11);
    res_.set(bhttp::field::content_type, r.content_type);
    res_.keep_alive(false);
    res_.body() = std::move(r.body);
    res_.prepare_payload();
    stream_.expires_after(kDeadline);
    bhttp::async_write(stream_, res_, [self = this->shared_from_this()](beast::error_code, size_t) { self->Close(); });
  }

  Response Dispatch(const bhttp::request<bhttp::string_body>& req) {
    std::string target(req.target());
    Request in{std::string(req.method_string()), target.substr(0, target.find('?'))};
    auto it = routes_.find(in.path);
    if (it == routes_.end()) return Response{404, "text/plain; charset=utf-8", "404 page not found\n"};
    if (req.method() != bhttp::verb::get) return Response{405, "text/plain; charset=utf-8", "method not allowed\n"};
    try {
      return it->second(in);
    } catch (const std::exception& e) {  // a handler's failure is this request's, not the daemon's
      return Response{500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::basic_stream<Protocol> stream_;
  const Routes& routes_;
  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::string_body> parser_;
  bhttp::response<bhttp::string_body> res_;
};

template <class Protocol>
class Listener : public std::enable_shared_from_this<Listener<Protocol>> {
 public:
  Listener(typename Protocol::acceptor acceptor, const Routes& routes)
      : acceptor_(std::move(acceptor)), retry_(acceptor_.get_executor()), routes_(routes) {}

  void Accept() {
    acceptor_.async_accept([self = this->shared_from_this()](beast::error_code ec, typename Protocol::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        std::make_shared<Session<Protocol>>(std::move(socket), self->routes_)->Run();
        return self->Accept();
      }
      // Out of fds (or another accept error): try again shortly instead of spinning.
      self->retry_.expires_after(std::chrono::milliseconds(100));
      self->retry_.async_wait([self](beast::error_code wait_ec) {
        if (!wait_ec) self->Accept();
      });
    });
  }
  void Close() {
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  }

 private:
  typename Protocol::acceptor acceptor_;
  asio::steady_timer retry_;
  const Routes& routes_;
};

template <class Acceptor, class Endpoint>
Status Bind(Acceptor& acceptor, const Endpoint& endpoint, bool reuse, const std::string& address) {
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && reuse) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("listen on {}: {}", address, ec.message());
  return Status::Ok();
}

}  // namespace

class Server::Impl {
 public:
  asio::io_context ioc{1};
  Routes routes;
  std::function<void()> close_listener;
  std::thread thread;
  std::string unix_path;
};

Result<std::unique_ptr<Server>> Server::Start(const std::string& address, Routes routes, Options options) {
  try {
    return StartOrThrow(address, std::move(routes), options);
  } catch (const std::exception& e) {  // asio's throwing corners (e.g. a path longer than sun_path)
    return Unavailable("listen on {}: {}", address, e.what());
  }
}

Result<std::unique_ptr<Server>> Server::StartOrThrow(const std::string& address, Routes routes, Options options) {
  std::unique_ptr<Server> s(new Server());
  s->impl_ = std::make_unique<Impl>();
  Impl& impl = *s->impl_;
  impl.routes = std::move(routes);
  if (!address.empty() && address.front() == '/') {
    using Local = asio::local::stream_protocol;
    struct stat st {};
    if (::lstat(address.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return InvalidArgument("{} exists and is not a socket", address);
      ::unlink(address.c_str());  // a stale socket of an earlier run
    }
    std::error_code dir_ec;
    std::filesystem::create_directories(std::filesystem::path(address).parent_path(), dir_ec);
    Local::acceptor acceptor(impl.ioc);
    BERTH_RETURN_IF_ERROR(Bind(acceptor, Local::endpoint(address), false, address));
    impl.unix_path = address;  // from here on the destructor removes it, also after a failure below
    if (::chmod(address.c_str(), 0660) != 0) return ErrnoStatus(fmt::format("chmod {}", address), errno);
    // 0:0 is root's socket as made: no chown (which an unprivileged daemon may not do).
    if ((options.uid > 0 || options.gid > 0) &&
        ::chown(address.c_str(), static_cast<uid_t>(options.uid), static_cast<gid_t>(options.gid)) != 0) {
      return ErrnoStatus(fmt::format("chown {}", address), errno);
    }
    auto listener = std::make_shared<Listener<Local>>(std::move(acceptor), impl.routes);
    listener->Accept();
    impl.close_listener = [listener] { listener->Close(); };
  } else {
    using Tcp = asio::ip::tcp;
    size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon + 1 == address.size()) {
      return InvalidArgument("address {:?} must be a socket path or host:port", address);
    }
    std::string host = address.substr(0, colon), port = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    beast::error_code ec;
    Tcp::resolver resolver(impl.ioc);
    auto found = resolver.resolve(host, port, Tcp::resolver::passive | Tcp::resolver::numeric_service, ec);
    if (ec || found.empty()) return InvalidArgument("address {:?}: {}", address, ec ? ec.message() : "not found");
    Tcp::acceptor acceptor(impl.ioc);
    BERTH_RETURN_IF_ERROR(Bind(acceptor, found.begin()->endpoint(), true, address));
    s->port_ = acceptor.local_endpoint().port();
    auto listener = std::make_shared<Listener<Tcp>>(std::move(acceptor), impl.routes);
    listener->Accept();
    impl.close_listener = [listener] { listener->Close(); };
  }
  impl.thread = std::thread([&impl] { impl.ioc.run(); });
  return s;
}

Server::~Server() {
  if (!impl_) return;
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The loop has stopped: nothing else touches the listener now. Connections still open are
  // dropped with the io_context.
  if (impl_->close_listener) impl_->close_listener();
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
}

}  // namespace berth::http
