#include "ttrpc/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/logging.h"
#include "ttrpc/connection.h"

namespace berth::ttrpc {

CallOptions WithNamespace(std::string_view ns, std::chrono::milliseconds timeout) {
  CallOptions opts;
  opts.metadata.emplace(kNamespaceKey, std::string(ns));
  opts.timeout = timeout;
  return opts;
}

namespace {

// "unix:///p", "unix:/p", "/p"; "@name" (after the scheme) is the abstract namespace.
Result<std::pair<sockaddr_un, socklen_t>> UnixAddress(std::string_view address) {
  std::string_view path = address;
  if (path.starts_with("unix://")) {
    path.remove_prefix(7);
  } else if (path.starts_with("unix:")) {
    path.remove_prefix(5);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Error(Errc::kInvalidArgument, "ttrpc: address {:?} is empty or too long", address);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract: the length, not a NUL, ends the name
  } else {
    len += 1;
  }
  return std::make_pair(addr, len);
}

Result<UniqueFd> Dial(std::string_view address, std::chrono::milliseconds timeout) {
  BERTH_ASSIGN_OR_RETURN(auto addr, UnixAddress(address));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return ErrnoStatus("ttrpc: socket", errno);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.first), addr.second) == 0) return fd;
    int err = errno;
    if (err == EINTR) continue;
    if (err == EINPROGRESS) {
      // Not expected for unix sockets, but wait it out the portable way.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
      int so_err = 0;
      socklen_t so_len = sizeof so_err;
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) == 1 &&
          ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_err, &so_len) == 0 && so_err == 0) {
        return fd;
      }
      err = so_err != 0 ? so_err : ETIMEDOUT;
    } else if (err == EAGAIN && std::chrono::steady_clock::now() < deadline) {
      // A unix listener's backlog is full: try again until the deadline.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    return Error(Errc::kUnavailable, "ttrpc: connect {}: {}", address, std::strerror(err));
  }
}

// The connection's state, shared with the loop's callbacks (which hold it weakly) so that a
// Client dropped on any thread is torn down on the loop thread.
struct ClientCore : std::enable_shared_from_this<ClientCore> {
  struct Pending {
    Client::Callback cb;
    EventLoop::TimerId timer = 0;
    std::string what;  // "service/method", for error texts
  };

  ClientCore(EventLoop& l, std::shared_ptr<Connection> c) : loop(l), conn(std::move(c)) {}

  EventLoop& loop;
  std::shared_ptr<Connection> conn;
  std::atomic<bool> closed{false};

  // Loop thread only.
  uint32_t next_stream = 1;
  std::unordered_map<uint32_t, Pending> pending;

  std::mutex mu;
  bool close_fired = false;                      // guarded by mu
  std::vector<std::function<void()>> on_close;   // guarded by mu

  void Start() {
    std::weak_ptr<ClientCore> weak = shared_from_this();
    Connection::Handlers h;
    h.on_frame = [weak](const FrameHeader& header, std::string body) {
      if (auto core = weak.lock()) core->OnFrame(header, std::move(body));
    };
    h.on_oversized = [weak](const FrameHeader& header) {
      if (auto core = weak.lock()) {
        core->Finish(header.stream_id,
                     Error(Errc::kResourceExhausted, "message length {} exceed maximum message size of {}",
                           header.length, kMaxMessageLength),
                     {});
      }
    };
    h.on_close = [weak] {
      if (auto core = weak.lock()) core->OnClosed();
    };
    Status st = conn->Start(std::move(h));
    if (!st.ok()) {
      log::Warn("ttrpc: cannot watch client connection", {{"error", st.ToString()}});
      conn->Close();
    }
  }

  void StartCall(std::string what, std::string request, std::chrono::milliseconds timeout, Client::Callback cb) {
    if (conn->closed() || closed.load()) {
      // Never call back from inside CallAsync itself.
      loop.Post([cb = std::move(cb), what] { cb(Error(Errc::kUnavailable, "ttrpc: {}: connection closed", what), {}); });
      return;
    }
    uint32_t id = next_stream;
    next_stream += 2;
    Pending p{.cb = std::move(cb), .timer = 0, .what = std::move(what)};
    if (timeout.count() > 0) {
      std::weak_ptr<ClientCore> weak = shared_from_this();
      p.timer = loop.AddTimer(timeout, [weak, id] {
        auto core = weak.lock();
        if (!core) return;
        auto it = core->pending.find(id);
        if (it == core->pending.end()) return;
        it->second.timer = 0;
        std::string w = it->second.what;
        core->Finish(id, Status(Errc::kDeadlineExceeded, "ttrpc: " + w), {});
      });
    }
    pending.emplace(id, std::move(p));
    conn->Send(id, MessageType::kRequest, request);
  }

  // Completes one call (a late or unknown stream is ignored).
  void Finish(uint32_t id, Status status, std::string payload) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    Pending p = std::move(it->second);
    pending.erase(it);
    if (p.timer != 0) loop.CancelTimer(p.timer);
    p.cb(std::move(status), std::move(payload));
  }

  void OnFrame(const FrameHeader& h, std::string body) {
    if (h.type != static_cast<uint8_t>(MessageType::kResponse)) {
      log::Debug("ttrpc: ignoring a non-response frame", {{"type", h.type}, {"stream", h.stream_id}});
      return;
    }
    Result<Response> resp = DecodeResponse(body);
    if (!resp.ok()) {
      Finish(h.stream_id, resp.status(), {});
      return;
    }
    Finish(h.stream_id, std::move(resp->status), std::move(resp->payload));
  }

  void OnClosed() {
    closed.store(true);
    auto calls = std::move(pending);
    pending.clear();
    for (auto& [id, p] : calls) {
      if (p.timer != 0) loop.CancelTimer(p.timer);
      p.cb(Error(Errc::kUnavailable, "ttrpc: {}: connection closed", p.what), {});
    }
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard lock(mu);
      close_fired = true;
      fns.swap(on_close);
    }
    for (auto& fn : fns) fn();
  }
};

}  // namespace

struct Client::Impl {
  std::shared_ptr<ClientCore> core;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() { Close(); }

Result<std::shared_ptr<Client>> Client::Connect(EventLoop& loop, std::string_view address,
                                                std::chrono::milliseconds timeout) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Dial(address, timeout));
  auto core = std::make_shared<ClientCore>(loop, Connection::Create(loop, std::move(fd)));
  // The loop owns its fd table: register from the loop thread. Calls made meanwhile are posted
  // behind this, so they find the connection started.
  if (loop.InLoopThread()) {
    core->Start();
  } else {
    loop.Post([core] { core->Start(); });
  }
  auto impl = std::make_unique<Impl>();
  impl->core = std::move(core);
  return std::shared_ptr<Client>(new Client(std::move(impl)));
}

void Client::CallAsync(std::string_view service, std::string_view method, std::string payload,
                       const CallOptions& opts, Callback cb) {
  auto& core = impl_->core;
  std::string what = fmt::format("{}/{}", service, method);
  Request req{.service = std::string(service),
              .method = std::string(method),
              .payload = std::move(payload),
              .timeout_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(opts.timeout).count(),
              .metadata = opts.metadata};
  std::string bytes = EncodeRequest(req);
  if (bytes.size() > kMaxMessageLength) {
    // The server would only discard it: fail here, as the message is never sent.
    Status st = Error(Errc::kResourceExhausted, "ttrpc: {}: request of {} bytes exceeds the maximum message size of {}",
                      what, bytes.size(), kMaxMessageLength);
    core->loop.Post([cb = std::move(cb), st] { cb(st, {}); });
    return;
  }
  if (core->loop.InLoopThread()) {
    core->StartCall(std::move(what), std::move(bytes), opts.timeout, std::move(cb));
  } else {
    core->loop.Post([core, what = std::move(what), bytes = std::move(bytes), timeout = opts.timeout,
                     cb = std::move(cb)]() mutable {
      core->StartCall(std::move(what), std::move(bytes), timeout, std::move(cb));
    });
  }
}

Status Client::Call(std::string_view service, std::string_view method, const google::protobuf::Message& req,
                    google::protobuf::Message* resp, const CallOptions& opts) {
  auto& core = impl_->core;
  if (core->loop.InLoopThread()) {
    return Error(Errc::kFailedPrecondition, "ttrpc: blocking call {}/{} on the event loop thread", service, method);
  }
  std::string payload;
  if (!req.SerializeToString(&payload)) {
    return Error(Errc::kInvalidArgument, "ttrpc: cannot encode {} request", req.GetTypeName());
  }
  struct Answer {
    Status status;
    std::string payload;
  };
  auto promise = std::make_shared<std::promise<Answer>>();
  std::future<Answer> future = promise->get_future();
  CallAsync(service, method, std::move(payload), opts, [promise](Status status, std::string body) {
    promise->set_value(Answer{std::move(status), std::move(body)});
  });
  Answer answer;
  try {
    answer = future.get();
  } catch (const std::future_error&) {
    // The callback was dropped unrun: the loop went away with the call queued.
    return Error(Errc::kUnavailable, "ttrpc: {}/{}: event loop stopped", service, method);
  }
  if (!answer.status.ok()) return answer.status;
  if (resp != nullptr && !resp->ParseFromString(answer.payload)) {
    return Error(Errc::kInternal, "ttrpc: {}/{}: cannot decode {} response", service, method, resp->GetTypeName());
  }
  return Status::Ok();
}

void Client::Close() {
  auto& core = impl_->core;
  core->closed.store(true);
  if (core->loop.InLoopThread()) {
    core->conn->Close();
  } else {
    core->loop.Post([core] { core->conn->Close(); });
  }
}

bool Client::closed() const { return impl_->core->closed.load(); }

void Client::OnClose(std::function<void()> fn) {
  auto& core = impl_->core;
  {
    std::lock_guard lock(core->mu);
    if (!core->close_fired) {
      core->on_close.push_back(std::move(fn));
      return;
    }
  }
  // Already closed: still run it, on the loop thread as promised.
  core->loop.Post(std::move(fn));
}

}  // namespace berth::ttrpc
