#include "http/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace berth::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr auto kDeadline = std::chrono::seconds(10);  // to send a whole request, to take an answer
constexpr int kMaxQueuedHandlers = 256;               // beyond: 503 at once instead of a longer queue

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

std::string Request::QueryParam(std::string_view name, std::string fallback) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
  }
  return fallback;
}

Handler ExactGetRoutes(Routes routes) {
  return [routes = std::move(routes)](const Request& req) -> Response {
    auto it = routes.find(req.path);
    if (it == routes.end()) return TextResponse(404, "404 page not found\n");
    if (req.method != "GET") return TextResponse(405, "method not allowed\n");
    return it->second(req);
  };
}

// What every connection shares: the handler, the worker pool, the streams' threads.
class Server::Impl {
 public:
  asio::io_context ioc{1};
  Handler handler;
  Options options;
  std::optional<asio::thread_pool> pool;
  std::function<void()> close_listener;
  std::thread io_thread;
  std::string unix_path;
  std::atomic<int> queued_handlers{0};

  // Streams: their producers' threads, and the one wait every blocked Write uses.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  struct StreamThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<StreamThread> stream_threads;
  int active_streams = 0;

  // An answer of the server itself (not the handler's): JSON {"error": ...} when asked for.
  Response LayerError(int status, std::string message) const {
    if (!options.json_errors) return TextResponse(status, message + "\n");
    std::string escaped;
    for (char c : message) {
      if (c == '"' || c == '\\') escaped += '\\';
      if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) escaped += c;
    }
    return Response{status, "application/json", "{\"error\":\"" + escaped + "\"}\n", {}};
  }

  Response Dispatch(Request req) {
    try {
      return handler(req);
    } catch (const std::exception& e) {  // a handler's failure is this request's, not the daemon's
      return LayerError(500, std::string("internal error: ") + e.what());
    }
  }

  // A slot for a stream, taken before its headers go out: false when max_streams are taken.
  bool ReserveStream() {
    std::lock_guard lock(mu);
    if (stopping || active_streams >= options.max_streams) return false;
    ++active_streams;
    return true;
  }
  void ReleaseStream() {
    std::lock_guard lock(mu);
    --active_streams;
  }

  // Runs a reserved stream's producer on a thread of its own (false when stopping: the slot is
  // released).
  bool StartStream(std::function<void()> run) {
    std::list<StreamThread> finished;
    std::lock_guard lock(mu);
    for (auto it = stream_threads.begin(); it != stream_threads.end();) {  // reap the ended ones
      auto next = std::next(it);
      if (it->done->load()) finished.splice(finished.end(), stream_threads, it);
      it = next;
    }
    for (auto& t : finished) t.thread.join();  // already returned: joins at once
    if (stopping) {
      --active_streams;
      return false;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    stream_threads.push_back(StreamThread{std::thread([this, done, run = std::move(run)] {
                                            run();
                                            std::lock_guard finished_lock(mu);
                                            --active_streams;
                                            done->store(true);
                                          }),
                                          done});
    return true;
  }
};

namespace {

// One connection: one request, one answer (or one stream), closed.
template <class Protocol>
class Session : public std::enable_shared_from_this<Session<Protocol>> {
 public:
  Session(typename Protocol::socket socket, Server::Impl& impl) : stream_(std::move(socket)), impl_(impl) {}

  void Run() {
    parser_.body_limit(impl_.options.body_limit);
    parser_.header_limit(16 * 1024);
    stream_.expires_after(kDeadline);
    bhttp::async_read(stream_, buffer_, parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  // A stream's chunk, from the producer's thread: written on the io thread, waited for here.
  bool WriteChunk(std::string data, bool last) {
    struct Pending {
      bool done = false;
      bool ok = false;
    };
    auto pending = std::make_shared<Pending>();
    auto payload = std::make_shared<std::string>(std::move(data));
    if (closed_.load()) return false;
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), pending, payload, last] {
      auto finish = [self, pending, payload](beast::error_code ec, size_t) {
        if (ec) self->closed_ = true;
        self->stream_.expires_never();
        std::lock_guard lock(self->impl_.mu);
        pending->done = true;
        pending->ok = !ec;
        self->impl_.cv.notify_all();
      };
      if (self->closed_.load()) return finish(asio::error::broken_pipe, 0);
      self->stream_.expires_after(kDeadline);
      if (last) {
        asio::async_write(self->stream_, bhttp::make_chunk_last(), finish);
      } else {
        asio::async_write(self->stream_, bhttp::make_chunk(asio::buffer(*payload)), finish);
      }
    });
    std::unique_lock lock(impl_.mu);
    impl_.cv.wait(lock, [&] { return pending->done || impl_.stopping; });
    // Stopping with the write still pending: no other write may start after it.
    if (!pending->done) closed_ = true;
    return pending->done && pending->ok;
  }

  bool closed() const { return closed_.load(); }

  void CloseFromProducer() {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  class StreamOf final : public Stream {
   public:
    explicit StreamOf(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    bool Write(std::string data) override {
      if (data.empty()) return !closed();
      return session_->WriteChunk(std::move(data), false);
    }
    bool closed() const override {
      if (session_->closed()) return true;
      std::lock_guard lock(session_->impl_.mu);
      return session_->impl_.stopping;
    }

   private:
    std::shared_ptr<Session> session_;
  };

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      return Answer(impl_.LayerError(413, "request too large"));
    }
    if (ec) return Answer(impl_.LayerError(400, "bad request: " + ec.message()));
    stream_.expires_never();  // the handler may take its time; the answer gets a new deadline
    auto& msg = parser_.get();
    std::string target(msg.target());
    Request req;
    req.method = std::string(msg.method_string());
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.content_type = std::string(msg[bhttp::field::content_type]);
    req.body = std::move(msg.body());
    if (!impl_.pool) return Respond(impl_.Dispatch(std::move(req)));
    if (impl_.queued_handlers.fetch_add(1) >= kMaxQueuedHandlers) {
      impl_.queued_handlers.fetch_sub(1);
      return Answer(impl_.LayerError(503, "too many requests in flight"));
    }
    asio::post(*impl_.pool, [self = this->shared_from_this(), req = std::move(req)]() mutable {
      Response r = self->impl_.Dispatch(std::move(req));
      self->impl_.queued_handlers.fetch_sub(1);
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
    });
  }

  void Respond(Response r) {
    if (!r.stream) return Answer(std::move(r));
    if (!impl_.ReserveStream()) return Answer(impl_.LayerError(503, "too many streams open"));
    head_.result(static_cast<unsigned>(r.status));
    head_.version(11);
    head_.set(bhttp::field::content_type, r.content_type);
    head_.keep_alive(false);
    head_.chunked(true);
    serializer_.emplace(head_);
    stream_.expires_after(kDeadline);
    bhttp::async_write_header(
        stream_, *serializer_,
        [self = this->shared_from_this(), producer = std::move(r.stream)](beast::error_code ec, size_t) mutable {
          self->stream_.expires_never();
          if (ec) {
            self->impl_.ReleaseStream();
            return self->Close();
          }
          self->WatchForHangUp();
          bool started = self->impl_.StartStream([self, producer = std::move(producer)] {
            StreamOf s(self);
            producer(s);
            if (!self->closed()) self->WriteChunk("", true);
            self->CloseFromProducer();
          });
          if (!started) self->Close();
        });
  }

  // The client sends nothing more after its request: a read that completes means it hung up.
  void WatchForHangUp() {
    stream_.socket().async_read_some(asio::buffer(scratch_),
                                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                                       if (ec) {
                                         self->closed_ = true;
                                         std::lock_guard lock(self->impl_.mu);
                                         self->impl_.cv.notify_all();
                                         return;
                                       }
                                       self->WatchForHangUp();
                                     });
  }

  void Answer(Response r) {
    res_.result(static_cast<unsigned>(r.status));
    res_.version(11);
    res_.set(bhttp::field::content_type, r.content_type);
    res_.keep_alive(false);
    res_.body() = std::move(r.body);
    res_.prepare_payload();
    stream_.expires_after(kDeadline);
    bhttp::async_write(stream_, res_, [self = this->shared_from_this()](beast::error_code, size_t) { self->Close(); });
  }

  void Close() {
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::basic_stream<Protocol> stream_;
  Server::Impl& impl_;
  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::string_body> parser_;
  bhttp::response<bhttp::string_body> res_;
  bhttp::response<bhttp::empty_body> head_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  std::atomic<bool> closed_{false};
  char scratch_[256];
};

template <class Protocol>
class Listener : public std::enable_shared_from_this<Listener<Protocol>> {
 public:
  Listener(typename Protocol::acceptor acceptor, Server::Impl& impl)
      : acceptor_(std::move(acceptor)), retry_(acceptor_.get_executor()), impl_(impl) {}

  void Accept() {
    acceptor_.async_accept([self = this->shared_from_this()](beast::error_code ec, typename Protocol::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        std::make_shared<Session<Protocol>>(std::move(socket), self->impl_)->Run();
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
  Server::Impl& impl_;
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

Result<std::unique_ptr<Server>> Server::Start(const std::string& address, Handler handler, Options options) {
  try {
    return StartOrThrow(address, std::move(handler), options);
  } catch (const std::exception& e) {  // asio's throwing corners (e.g. a path longer than sun_path)
    return Unavailable("listen on {}: {}", address, e.what());
  }
}

Result<std::unique_ptr<Server>> Server::StartOrThrow(const std::string& address, Handler handler, Options options) {
  std::unique_ptr<Server> s(new Server());
  s->impl_ = std::make_unique<Impl>();
  Impl& impl = *s->impl_;
  impl.handler = std::move(handler);
  impl.options = options;
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
    auto listener = std::make_shared<Listener<Local>>(std::move(acceptor), impl);
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
    auto listener = std::make_shared<Listener<Tcp>>(std::move(acceptor), impl);
    listener->Accept();
    impl.close_listener = [listener] { listener->Close(); };
  }
  if (options.workers > 0) impl.pool.emplace(static_cast<size_t>(options.workers));
  impl.io_thread = std::thread([&impl] { impl.ioc.run(); });
  return s;
}

Server::~Server() {
  if (!impl_) return;
  Impl& impl = *impl_;
  if (impl.close_listener) asio::post(impl.ioc, impl.close_listener);
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = true;  // blocked stream writes return false; producers see closed()
    impl.cv.notify_all();
  }
  std::list<Impl::StreamThread> streams;
  {
    std::lock_guard lock(impl.mu);
    streams.swap(impl.stream_threads);
  }
  for (auto& t : streams) t.thread.join();
  if (impl.pool) impl.pool->join();  // running handlers finish; queued ones still run
  impl.ioc.stop();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  // The loop has stopped: nothing else touches the listener now. Connections still open are
  // dropped with the io_context.
  if (impl.close_listener) impl.close_listener();
  if (!impl.unix_path.empty()) ::unlink(impl.unix_path.c_str());
}

}  // namespace berth::http
