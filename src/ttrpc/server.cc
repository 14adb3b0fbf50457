#include "ttrpc/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "common/logging.h"
#include "ttrpc/connection.h"

namespace berth::ttrpc {

std::string CallContext::Namespace() const {
  auto it = metadata.find(kNamespaceKey);
  return it == metadata.end() ? std::string() : it->second;
}

// ---- Responder ----------------------------------------------------------------------------

struct Responder::State {
  std::weak_ptr<Connection> conn;  // weak: a late answer after close is a no-op
  uint32_t stream_id = 0;
  bool answered = false;

  void Answer(Response response) {
    answered = true;
    std::string body = EncodeResponse(response);
    auto c = conn.lock();
    if (!c) return;
    if (c->loop().InLoopThread()) {
      c->Send(stream_id, MessageType::kResponse, body);
    } else {
      // Answered from another thread: the connection belongs to the loop.
      c->loop().Post([weak = conn, id = stream_id, body = std::move(body)] {
        if (auto cc = weak.lock()) cc->Send(id, MessageType::kResponse, body);
      });
    }
  }
};

Responder::Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}
Responder::Responder(Responder&&) noexcept = default;

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (state_ && !state_->answered) Fail(Status(Errc::kInternal, "ttrpc: request was not answered"));
    state_ = std::move(other.state_);
  }
  return *this;
}

Responder::~Responder() {
  if (state_ && !state_->answered) Fail(Status(Errc::kInternal, "ttrpc: request was not answered"));
}

void Responder::Reply(const google::protobuf::Message& response) {
  if (!state_ || state_->answered) return;
  Response r;
  if (!response.SerializeToString(&r.payload)) {
    r.status = Status(Errc::kInternal, "ttrpc: cannot encode response");
    r.payload.clear();
  } else if (r.payload.size() + 64 > kMaxMessageLength) {
    // The peer would refuse the frame; tell it why instead.
    r.status = Error(Errc::kResourceExhausted, "ttrpc: response of {} bytes exceeds the maximum message size of {}",
                     r.payload.size(), kMaxMessageLength);
    r.payload.clear();
  }
  state_->Answer(std::move(r));
}

void Responder::Fail(const Status& status) {
  if (!state_ || state_->answered) return;
  // An ok status here is a caller bug; answering an empty success is the harmless reading.
  state_->Answer(Response{.status = status, .payload = {}});
}

bool Responder::answered() const { return !state_ || state_->answered; }

// ---- Server -------------------------------------------------------------------------------

struct Server::Impl {
  EventLoop& loop;
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> services;
  std::vector<UniqueFd> listeners;
  std::vector<std::string> socket_paths;  // made by Listen(): removed again by Close()
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns;
  std::atomic<size_t> conn_count{0};
  std::vector<std::function<void()>> on_closed;
  EventLoop::TimerId accept_retry = 0;  // listeners paused after an accept error
  bool closing = false;  // Close() in progress: our own closes are not reported

  explicit Impl(EventLoop& l) : loop(l) {}

  void OnAccept(int listen_fd);
  void OnFrame(const std::shared_ptr<Connection>& conn, const FrameHeader& h, std::string body);
  void Dispatch(const std::shared_ptr<Connection>& conn, uint32_t stream_id, Request req);
};

namespace {
void SendStatus(Connection& conn, uint32_t stream_id, Status status) {
  std::string frame = EncodeResponse(Response{.status = std::move(status), .payload = {}});
  if (frame.size() > kMaxMessageLength) {  // the peer would drop it as oversized
    frame = EncodeResponse(Response{.status = Status(Errc::kInternal, "ttrpc: error too long to send"), .payload = {}});
  }
  conn.Send(stream_id, MessageType::kResponse, frame);
}

// A service or method name from the peer, as an error message may quote it: itself when it is
// short printable ASCII (ttrpc's own wording), escaped and cut otherwise, so the answer stays
// valid UTF-8 that the peer can decode (found by fuzz/ttrpc_server).
std::string Quoted(std::string_view name) {
  constexpr size_t kMax = 256;
  bool plain = name.size() <= kMax &&
               std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (plain) return std::string(name);
  return fmt::format("{:?}", name.substr(0, kMax));
}
}  // namespace

void Server::Impl::OnAccept(int listen_fd) {
  for (;;) {
    UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // Out of fds, most likely: the listener stays readable, so pause it instead of spinning.
        log::Warn("ttrpc: accept failed, pausing the listener", {{"error", std::strerror(errno)}});
        loop.Modify(listen_fd, 0).IgnoreError();
        if (accept_retry == 0) {
          accept_retry = loop.AddTimer(std::chrono::milliseconds(100), [this] {
            accept_retry = 0;
            for (const UniqueFd& l : listeners) loop.Modify(l.get(), EPOLLIN).IgnoreError();
          });
        }
      }
      return;
    }
    auto conn = Connection::Create(loop, std::move(fd));
    std::weak_ptr<Connection> weak = conn;
    Connection* key = conn.get();
    Connection::Handlers handlers;
    handlers.on_frame = [this, weak](const FrameHeader& h, std::string body) {
      if (auto c = weak.lock()) OnFrame(c, h, std::move(body));
    };
    handlers.on_oversized = [weak](const FrameHeader& h) {
      // ttrpc answers the stream and keeps the connection.
      if (auto c = weak.lock()) {
        SendStatus(*c, h.stream_id,
                   Error(Errc::kResourceExhausted, "message length {} exceed maximum message size of {}",
                         h.length, kMaxMessageLength));
      }
    };
    handlers.on_close = [this, key] {
      conns.erase(key);
      conn_count.store(conns.size());
      if (closing) return;
      for (auto& fn : on_closed) fn();
    };
    Status st = conn->Start(std::move(handlers));
    if (!st.ok()) {
      log::Warn("ttrpc: cannot watch connection", {{"error", st.ToString()}});
      conn->Close();
      continue;
    }
    conns.emplace(key, std::move(conn));
    conn_count.store(conns.size());
  }
}

void Server::Impl::OnFrame(const std::shared_ptr<Connection>& conn, const FrameHeader& h, std::string body) {
  // Other message types are ignored, for forward compatibility (as ttrpc does).
  if (h.type != static_cast<uint8_t>(MessageType::kRequest)) return;
  Result<Request> req = DecodeRequest(body);
  if (!req.ok()) {
    SendStatus(*conn, h.stream_id, Status(Errc::kInvalidArgument, "unmarshal request error: " + req.status().message()));
    return;
  }
  if (h.stream_id % 2 != 1) {
    SendStatus(*conn, h.stream_id,
               Status(Errc::kInvalidArgument, "StreamID must be odd for client initiated streams"));
    return;
  }
  Dispatch(conn, h.stream_id, std::move(req).value());
}

void Server::Impl::Dispatch(const std::shared_ptr<Connection>& conn, uint32_t stream_id, Request req) {
  auto svc = services.find(req.service);
  if (svc == services.end()) {
    SendStatus(*conn, stream_id, Error(Errc::kNotImplemented, "service {}", Quoted(req.service)));
    return;
  }
  auto method = svc->second.find(req.method);
  if (method == svc->second.end()) {
    SendStatus(*conn, stream_id, Error(Errc::kNotImplemented, "method {}", Quoted(req.method)));
    return;
  }
  auto state = std::make_shared<Responder::State>();
  state->conn = conn;
  state->stream_id = stream_id;
  CallContext ctx{.service = std::move(req.service),
                  .method = std::move(req.method),
                  .metadata = std::move(req.metadata),
                  .timeout_nano = req.timeout_nano};
  // Copied: the handler may Register or Close, changing the map under it.
  Handler handler = method->second;
  handler(ctx, req.payload, Responder(std::move(state)));
}

Server::Server(EventLoop& loop) : impl_(std::make_unique<Impl>(loop)) {}

Server::~Server() { Close(); }

void Server::Register(std::string service, std::string method, Handler handler) {
  impl_->services[std::move(service)][std::move(method)] = std::move(handler);
}

Status Server::Serve(UniqueFd listener) {
  const int fd = listener.get();
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoStatus("ttrpc: set listener non-blocking", errno);
  }
  Impl* impl = impl_.get();
  BERTH_RETURN_IF_ERROR(impl->loop.Add(fd, EPOLLIN, [impl, fd](uint32_t) { impl->OnAccept(fd); }));
  impl->closing = false;
  impl->listeners.push_back(std::move(listener));
  return Status::Ok();
}

Status Server::Listen(const std::string& path, unsigned mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error(Errc::kInvalidArgument, "ttrpc: socket path {:?} is empty or too long", path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error(Errc::kAlreadyExists, "ttrpc: {} exists and is not a socket", path);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return ErrnoStatus("ttrpc: remove old socket " + path, errno);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return ErrnoStatus("ttrpc: socket", errno);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return ErrnoStatus("ttrpc: bind " + path, errno);
  }
  if (::chmod(path.c_str(), mode) < 0 || ::listen(fd.get(), SOMAXCONN) < 0) {
    Status s = ErrnoStatus("ttrpc: listen " + path, errno);
    ::unlink(path.c_str());
    return s;
  }
  Status served = Serve(std::move(fd));
  if (!served.ok()) {
    ::unlink(path.c_str());
    return served;
  }
  impl_->socket_paths.push_back(path);
  return Status::Ok();
}

void Server::Close() {
  impl_->closing = true;
  if (impl_->accept_retry != 0) impl_->loop.CancelTimer(impl_->accept_retry);
  impl_->accept_retry = 0;
  for (const UniqueFd& fd : impl_->listeners) impl_->loop.Remove(fd.get());
  impl_->listeners.clear();  // closes them
  for (const auto& path : impl_->socket_paths) ::unlink(path.c_str());
  impl_->socket_paths.clear();
  // Closing erases from the map: close from a copy.
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(impl_->conns.size());
  for (auto& [key, conn] : impl_->conns) open.push_back(conn);
  for (auto& conn : open) conn->Close();
  impl_->conns.clear();
  impl_->conn_count.store(0);
}

size_t Server::connection_count() const { return impl_->conn_count.load(); }

void Server::OnConnectionClosed(std::function<void()> fn) { impl_->on_closed.push_back(std::move(fn)); }

}  // namespace berth::ttrpc
