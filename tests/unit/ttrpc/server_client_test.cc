// Server and client in-process over a temp unix socket, the loop on its own thread.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <google/protobuf/wrappers.pb.h>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "loop_thread.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace berth::ttrpc {
namespace {

using google::protobuf::StringValue;
using std::chrono::milliseconds;
using testing::LoopThread;
using testing::TempDir;
using testing::WaitFor;

constexpr const char* kSvc = "berth.test.Echo";

StringValue Str(std::string v) {
  StringValue s;
  s.set_value(std::move(v));
  return s;
}

class ServerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = (dir_.path() / "ttrpc.sock").string();
    server_ = std::make_unique<Server>(lt_.loop());
    server_->RegisterUnary<StringValue, StringValue>(
        kSvc, "Echo", [](const CallContext&, const StringValue& in) -> Result<StringValue> { return in; });
    server_->RegisterUnary<StringValue, StringValue>(
        kSvc, "Namespace", [](const CallContext& ctx, const StringValue&) -> Result<StringValue> {
          return Str(ctx.Namespace() + "|" + std::to_string(ctx.timeout_nano));
        });
    // "<errc number>|message" -> that error.
    server_->RegisterUnary<StringValue, StringValue>(
        kSvc, "Fail", [](const CallContext&, const StringValue& in) -> Result<StringValue> {
          auto bar = in.value().find('|');
          return Status(static_cast<Errc>(std::stoi(in.value().substr(0, bar))), in.value().substr(bar + 1));
        });
    // Answers `delay` ms later from a timer: other calls go on meanwhile.
    server_->Register(kSvc, "Defer", [this](const CallContext&, std::string_view payload, Responder r) {
      StringValue in;
      in.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
      auto held = std::make_shared<Responder>(std::move(r));
      lt_.loop().AddTimer(milliseconds(std::stoi(in.value())), [held, in] { held->Reply(in); });
    });
    // Never answers on its own; the test decides.
    server_->Register(kSvc, "Hold", [this](const CallContext&, std::string_view, Responder r) {
      held_.push_back(std::make_shared<Responder>(std::move(r)));
      held_count_.store(held_.size());
    });
    server_->Register(kSvc, "Big", [](const CallContext&, std::string_view, Responder r) {
      r.Reply(Str(std::string(kMaxMessageLength + 10, 'x')));
    });
    server_->OnConnectionClosed([this] { conn_closed_++; });
    Status st = server_->Listen(socket_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    lt_.Start();
  }

  void TearDown() override {
    clients_.clear();
    lt_.Sync([this] {
      server_.reset();
      held_.clear();
    });
    lt_.Stop();
  }

  std::shared_ptr<Client> Connect() {
    auto c = Client::Connect(lt_.loop(), socket_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    clients_.push_back(*c);
    return *c;
  }

  Result<std::string> Echo(Client& c, const std::string& method, const std::string& v, CallOptions opts = {}) {
    StringValue out;
    BERTH_RETURN_IF_ERROR(c.Call(kSvc, method, Str(v), &out, opts));
    return out.value();
  }

  TempDir dir_;
  std::string socket_;
  LoopThread lt_;
  std::unique_ptr<Server> server_;
  std::vector<std::shared_ptr<Responder>> held_;  // loop thread
  std::atomic<size_t> held_count_{0};
  std::atomic<int> conn_closed_{0};
  std::vector<std::shared_ptr<Client>> clients_;
};

TEST_F(ServerClientTest, UnaryRoundTrip) {
  auto c = Connect();
  ASSERT_TRUE(c);
  auto r = Echo(*c, "Echo", "hello");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello");
  // An empty message is an empty payload.
  r = Echo(*c, "Echo", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "");
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 1; }));
}

TEST_F(ServerClientTest, ManyConcurrentCallsFromSeveralThreads) {
  auto c = Connect();
  ASSERT_TRUE(c);
  constexpr int kThreads = 4, kCalls = 200;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string v = std::to_string(t) + ":" + std::to_string(i) + std::string(static_cast<size_t>(i * 37), 'p');
        auto r = Echo(*c, "Echo", v);
        if (r.ok() && *r == v) good++;
      }
    });
  }
  // And async ones racing them, from this thread.
  std::atomic<int> async_good{0};
  for (int i = 0; i < kCalls; ++i) {
    std::string v = "async" + std::to_string(i);
    c->CallAsync(kSvc, "Echo", Str(v).SerializeAsString(), {}, [&async_good, v](Status st, std::string body) {
      StringValue out;
      if (st.ok() && out.ParseFromString(body) && out.value() == v) async_good++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kThreads * kCalls);
  EXPECT_TRUE(WaitFor([&] { return async_good.load() == kCalls; }));
}

TEST_F(ServerClientTest, LargeMessagesCrossPartialWrites) {
  auto c = Connect();
  ASSERT_TRUE(c);
  std::string big(3 << 20, 'b');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  std::vector<std::future<Result<std::string>>> futs;
  for (int i = 0; i < 3; ++i) futs.push_back(std::async(std::launch::async, [&] { return Echo(*c, "Echo", big); }));
  for (auto& f : futs) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(*r == big);
  }
}

TEST_F(ServerClientTest, DeferredAnswerLetsOtherCallsFinishFirst) {
  auto c = Connect();
  ASSERT_TRUE(c);
  std::atomic<bool> deferred_done{false};
  std::promise<Status> deferred;
  c->CallAsync(kSvc, "Defer", Str("300").SerializeAsString(), {}, [&](Status st, std::string body) {
    StringValue out;
    out.ParseFromString(body);
    if (st.ok() && out.value() != "300") st = Unknown("bad payload {}", out.value());
    deferred_done = true;
    deferred.set_value(st);
  });
  for (int i = 0; i < 10; ++i) {
    auto r = Echo(*c, "Echo", "quick");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_FALSE(deferred_done.load());
  auto fut = deferred.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Status st = fut.get();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(ServerClientTest, UnknownServiceOrMethodIsNotImplemented) {
  auto c = Connect();
  ASSERT_TRUE(c);
  Status st = c->Call(kSvc, "Nope", Str("x"), nullptr);
  EXPECT_EQ(st.code(), Errc::kNotImplemented) << st.ToString();
  EXPECT_EQ(st.message(), "method Nope");
  st = c->Call("berth.test.Missing", "Echo", Str("x"), nullptr);
  EXPECT_EQ(st.code(), Errc::kNotImplemented) << st.ToString();
  EXPECT_EQ(st.message(), "service berth.test.Missing");
  // A name that is not printable ASCII is escaped (and cut), so the answer stays decodable:
  // found by fuzz/ttrpc_server (raw bytes in the status made it malformed UTF-8).
  st = c->Call(kSvc, std::string("N\xff\xfe") + std::string(1000, 'x'), Str("x"), nullptr);
  EXPECT_EQ(st.code(), Errc::kNotImplemented) << st.ToString();
  EXPECT_TRUE(st.message().starts_with("method \"N\\xff\\xfe")) << st.message();
  EXPECT_LT(st.message().size(), 300u);
}

TEST_F(ServerClientTest, HandlerErrorsKeepTheirKindAndMessage) {
  auto c = Connect();
  ASSERT_TRUE(c);
  for (Errc code : {Errc::kUnknown, Errc::kInvalidArgument, Errc::kNotFound, Errc::kAlreadyExists,
                    Errc::kFailedPrecondition, Errc::kUnavailable, Errc::kNotImplemented, Errc::kCanceled,
                    Errc::kDeadlineExceeded, Errc::kResourceExhausted, Errc::kInternal}) {
    std::string msg = "container \"c" + std::to_string(static_cast<int>(code)) + "\"";
    auto r = Echo(*c, "Fail", std::to_string(static_cast<int>(code)) + "|" + msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_EQ(r.status().message(), msg);
  }
  // A request that does not decode as the handler's type.
  Status st;
  std::promise<Status> p;
  c->CallAsync(kSvc, "Echo", "\xff\xff", {}, [&](Status s, std::string) { p.set_value(s); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Errc::kInvalidArgument);
}

TEST_F(ServerClientTest, NamespaceAndTimeoutTravelAsMetadata) {
  auto c = Connect();
  ASSERT_TRUE(c);
  auto r = Echo(*c, "Namespace", "", WithNamespace("ns1", milliseconds(2000)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "ns1|2000000000");
  r = Echo(*c, "Namespace", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "|0");
}

TEST_F(ServerClientTest, DeadlineExceeded) {
  auto c = Connect();
  ASSERT_TRUE(c);
  auto start = std::chrono::steady_clock::now();
  auto r = Echo(*c, "Hold", "", CallOptions{.metadata = {}, .timeout = milliseconds(100)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kDeadlineExceeded) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // The late answer is dropped and the connection goes on.
  lt_.Sync([this] {
    for (auto& h : held_) h->Reply(Str("late"));
  });
  auto ok = Echo(*c, "Echo", "after");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, "after");
}

TEST_F(ServerClientTest, ServerCloseFailsPendingCallsAndFiresOnClose) {
  auto c = Connect();
  ASSERT_TRUE(c);
  std::atomic<bool> on_close{false};
  c->OnClose([&] { on_close = true; });
  std::vector<std::future<Status>> pending;
  for (int i = 0; i < 3; ++i) {
    pending.push_back(std::async(std::launch::async, [&] { return c->Call(kSvc, "Hold", Str(""), nullptr); }));
  }
  ASSERT_TRUE(WaitFor([&] { return held_count_.load() == 3; }));
  lt_.Sync([this] { server_->Close(); });
  for (auto& f : pending) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(f.get().code(), Errc::kUnavailable);
  }
  EXPECT_TRUE(WaitFor([&] { return on_close.load(); }));
  EXPECT_TRUE(c->closed());
  // Answers to a closed connection are no-ops.
  lt_.Sync([this] {
    for (auto& h : held_) h->Reply(Str("nobody listens"));
  });
  EXPECT_EQ(c->Call(kSvc, "Echo", Str(""), nullptr).code(), Errc::kUnavailable);
  // OnClose registered after the close still runs.
  std::atomic<bool> late{false};
  c->OnClose([&] { late = true; });
  EXPECT_TRUE(WaitFor([&] { return late.load(); }));
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

TEST_F(ServerClientTest, ClientCloseIsSeenByTheServer) {
  auto c = Connect();
  ASSERT_TRUE(c);
  std::promise<Status> p;
  c->CallAsync(kSvc, "Hold", "", {}, [&](Status st, std::string) { p.set_value(st); });
  ASSERT_TRUE(WaitFor([&] { return held_count_.load() == 1; }));
  c->Close();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Errc::kUnavailable);
  EXPECT_TRUE(WaitFor([&] { return conn_closed_.load() == 1 && server_->connection_count() == 0; }));
  lt_.Sync([this] {
    for (auto& h : held_) h->Reply(Str("late"));
  });
}

TEST_F(ServerClientTest, UnansweredResponderAnswersInternal) {
  server_->Register(kSvc, "Drop", [](const CallContext&, std::string_view, Responder) {});
  auto c = Connect();
  ASSERT_TRUE(c);
  Status st = c->Call(kSvc, "Drop", Str(""), nullptr);
  EXPECT_EQ(st.code(), Errc::kInternal) << st.ToString();
}

TEST_F(ServerClientTest, OversizedMessages) {
  auto c = Connect();
  ASSERT_TRUE(c);
  // A request over the limit is refused before it is sent.
  auto r = Echo(*c, "Echo", std::string(kMaxMessageLength, 'r'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kResourceExhausted) << r.status().ToString();
  // A response over the limit becomes ResourceExhausted for that call.
  r = Echo(*c, "Big", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kResourceExhausted) << r.status().ToString();
  r = Echo(*c, "Echo", "still fine");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// Raw frames on a plain socket: what a peer that ignores the limit sends.
int RawConnect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, char* buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = ::recv(fd, buf + off, len - off, 0);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Frame(uint32_t stream, MessageType type, const std::string& body, uint32_t length) {
  uint8_t h[kHeaderLength];
  EncodeHeader(FrameHeader{.length = length, .stream_id = stream, .type = static_cast<uint8_t>(type), .flags = 0}, h);
  return std::string(reinterpret_cast<char*>(h), kHeaderLength) + body;
}

Result<std::pair<FrameHeader, Response>> ReadResponse(int fd) {
  uint8_t h[kHeaderLength];
  if (!ReadAll(fd, reinterpret_cast<char*>(h), kHeaderLength)) return Unavailable("read header");
  FrameHeader header = DecodeHeader(h);
  std::string body(header.length, '\0');
  if (!ReadAll(fd, body.data(), body.size())) return Unavailable("read body");
  BERTH_ASSIGN_OR_RETURN(Response r, DecodeResponse(body));
  return std::make_pair(header, std::move(r));
}

TEST_F(ServerClientTest, ServerSkipsAnOversizedRequestAndAnswersResourceExhausted) {
  int fd = RawConnect(socket_);
  ASSERT_GE(fd, 0);
  uint32_t big = kMaxMessageLength + 100;
  // Stream 1 is too long (skipped, answered ResourceExhausted), stream 2 is even (refused),
  // stream 3 is served: the connection survives both.
  std::string even = EncodeRequest(Request{.service = kSvc, .method = "Echo"});
  std::string ok_req = EncodeRequest(Request{.service = kSvc, .method = "Echo", .payload = Str("next").SerializeAsString()});
  std::string frames = Frame(1, MessageType::kRequest, std::string(big, 'z'), big) +
                       Frame(2, MessageType::kRequest, even, static_cast<uint32_t>(even.size())) +
                       Frame(3, MessageType::kRequest, ok_req, static_cast<uint32_t>(ok_req.size()));
  std::thread writer([&] { WriteAll(fd, frames); });
  auto r1 = ReadResponse(fd);
  auto r2 = ReadResponse(fd);
  auto r3 = ReadResponse(fd);
  writer.join();
  ::close(fd);
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  EXPECT_EQ(r1->first.stream_id, 1u);
  EXPECT_EQ(r1->second.status.code(), Errc::kResourceExhausted);
  EXPECT_EQ(r2->first.stream_id, 2u);
  EXPECT_EQ(r2->second.status.code(), Errc::kInvalidArgument);
  EXPECT_EQ(r3->first.stream_id, 3u);
  ASSERT_TRUE(r3->second.status.ok()) << r3->second.status.ToString();
  StringValue out;
  ASSERT_TRUE(out.ParseFromString(r3->second.payload));
  EXPECT_EQ(out.value(), "next");
}

// A client against a raw server that answers with an oversized frame.
TEST(ServerClientCallsTest, OversizedResponseFailsThatCallOnly) {
  TempDir dir;
  std::string path = (dir.path() / "raw.sock").string();
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lfd, 1), 0);
  std::thread server([&] {
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 2; ++i) {
      uint8_t h[kHeaderLength];
      if (!ReadAll(fd, reinterpret_cast<char*>(h), kHeaderLength)) break;
      FrameHeader req = DecodeHeader(h);
      std::string body(req.length, '\0');
      if (!ReadAll(fd, body.data(), body.size())) break;
      if (i == 0) {
        uint32_t big = kMaxMessageLength + 1;
        WriteAll(fd, Frame(req.stream_id, MessageType::kResponse, std::string(big, 'q'), big));
      } else {
        std::string resp = EncodeResponse(Response{.status = Status::Ok(), .payload = Str("fine").SerializeAsString()});
        WriteAll(fd, Frame(req.stream_id, MessageType::kResponse, resp, static_cast<uint32_t>(resp.size())));
      }
    }
    ::close(fd);
  });
  {
    LoopThread lt;
    lt.Start();
    auto connected = Client::Connect(lt.loop(), "unix://" + path);
    ASSERT_TRUE(connected.ok()) << connected.status().ToString();
    std::shared_ptr<Client> c = std::move(*connected);
    Status st = c->Call(kSvc, "Echo", Str("a"), nullptr);
    EXPECT_EQ(st.code(), Errc::kResourceExhausted) << st.ToString();
    StringValue out;
    st = c->Call(kSvc, "Echo", Str("b"), &out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(out.value(), "fine");
    c.reset();
    lt.Sync([] {});
  }
  server.join();
  ::close(lfd);
}

TEST(ServerClientCallsTest, ConnectErrorsAndAbstractAddresses) {
  LoopThread lt;
  lt.Start();
  TempDir dir;
  auto none = Client::Connect(lt.loop(), (dir.path() / "nobody.sock").string());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Errc::kUnavailable);
  EXPECT_EQ(Client::Connect(lt.loop(), "unix://").status().code(), Errc::kInvalidArgument);

  // A server on an abstract socket, reached by "unix://@name".
  std::string name = "berth-ttrpc-test-" + std::to_string(::getpid());
  UniqueFd lfd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  ASSERT_EQ(::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())), 0);
  ASSERT_EQ(::listen(lfd.get(), 8), 0);
  auto server = std::make_unique<Server>(lt.loop());
  lt.Sync([&] {
    server->RegisterUnary<StringValue, StringValue>(
        kSvc, "Echo", [](const CallContext&, const StringValue& in) -> Result<StringValue> { return in; });
    Status st = server->Serve(std::move(lfd));
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  auto connected = Client::Connect(lt.loop(), "unix://@" + name);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  std::shared_ptr<Client> c = std::move(*connected);
  StringValue out;
  Status st = c->Call(kSvc, "Echo", Str("abstract"), &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out.value(), "abstract");
  c.reset();
  lt.Sync([&] { server.reset(); });
}

TEST(ServerClientCallsTest, BlockingCallOnTheLoopThreadIsRefused) {
  LoopThread lt;
  TempDir dir;
  auto server = std::make_unique<Server>(lt.loop());
  std::string path = (dir.path() / "s.sock").string();
  ASSERT_TRUE(server->Listen(path).ok());
  lt.Start();
  auto connected = Client::Connect(lt.loop(), path);
  ASSERT_TRUE(connected.ok());
  std::shared_ptr<Client> c = std::move(*connected);
  Status st;
  lt.Sync([&] { st = c->Call(kSvc, "Echo", Str(""), nullptr); });
  EXPECT_EQ(st.code(), Errc::kFailedPrecondition);
  c.reset();
  lt.Sync([&] { server.reset(); });
}

}  // namespace
}  // namespace berth::ttrpc
