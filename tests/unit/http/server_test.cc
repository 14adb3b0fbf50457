#include "http/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace berth::http {
namespace {

namespace fs = std::filesystem;

// A raw client: sends `request` as is, returns everything the server answers until it closes.
std::string Exchange(const fs::path& socket_path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-http-XXXXXX";
    dir_ = ::mkdtemp(t);
    sock_ = dir_ / "s.sock";
    Routes routes;
    routes["/hello"] = [](const Request& r) { return Response{200, "text/plain", "hello " + r.method + "\n"}; };
    auto s = Server::Start(sock_.string(), std::move(routes), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_, sock_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoutesAnswerAndEverythingElseIsRefusedClearly) {
  std::string ok = Exchange(sock_, "GET /hello?x=1 HTTP/1.1\r\nHost: d\r\n\r\n");
  EXPECT_NE(ok.find("HTTP/1.1 200 OK"), std::string::npos) << ok;
  EXPECT_NE(ok.find("hello GET"), std::string::npos) << ok;
  EXPECT_NE(Exchange(sock_, "GET /nope HTTP/1.1\r\nHost: d\r\n\r\n").find("404"), std::string::npos);
  EXPECT_NE(Exchange(sock_, "POST /hello HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n").find("405"),
            std::string::npos);
  EXPECT_NE(Exchange(sock_, "BLAH\r\n\r\n").find("400"), std::string::npos);
  std::string big = "POST /hello HTTP/1.1\r\nHost: d\r\nContent-Length: 1000000\r\n\r\n" + std::string(100000, 'x');
  EXPECT_NE(Exchange(sock_, big).find("413"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(sock_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ServerTest, AnIdleClientDoesNotHoldOthersUp) {
  int idle = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(idle, "GET /hel", 8, MSG_NOSIGNAL), 8);  // and then nothing
  auto start = std::chrono::steady_clock::now();
  EXPECT_NE(Exchange(sock_, "GET /hello HTTP/1.1\r\nHost: d\r\n\r\n").find("200 OK"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ::close(idle);
}

TEST_F(ServerTest, StopRemovesTheSocket) {
  server_.reset();
  EXPECT_FALSE(fs::exists(sock_));
}

TEST(ServerStartTest, AddressesAndStaleSockets) {
  EXPECT_TRUE(Server::Start("nonsense", Routes{}, {}).status().Is(Errc::kInvalidArgument));
  auto tcp = Server::Start("127.0.0.1:0", Routes{}, {});
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  EXPECT_GT((*tcp)->port(), 0);

  char t[] = "/tmp/berth-http-XXXXXX";
  fs::path dir = ::mkdtemp(t);
  std::ofstream(dir / "file") << "not a socket";
  EXPECT_TRUE(Server::Start((dir / "file").string(), Routes{}, {}).status().Is(Errc::kInvalidArgument));
  {
    // What a crashed daemon leaves: a socket file nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir / "s").c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  auto second = Server::Start((dir / "s").string(), Routes{}, {});
  EXPECT_TRUE(second.ok()) << "a stale socket is replaced: " << second.status().ToString();
  fs::remove_all(dir);
}

// A connection that asked for GET /stream; -1 when it could not.
int OpenStream(const fs::path& socket_path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  std::string req = "GET /stream HTTP/1.1\r\nHost: d\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A handler for every request (the REST API's way): methods, bodies, queries, worker threads,
// streamed answers.
class ServerHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-http-XXXXXX";
    dir_ = ::mkdtemp(t);
    sock_ = dir_ / "s.sock";
    Handler handler = [this](const Request& r) -> Response {
      if (r.path == "/slow") {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        return TextResponse(200, "slow\n");
      }
      if (r.path == "/stream") {
        Response resp{200, "application/json", "", {}};
        resp.stream = [this](Stream& out) {
          for (int i = 0; i < 3; ++i) out.Write("{\"n\":" + std::to_string(i) + "}\n");
          while (!out.closed()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
          stream_ended_ = true;
        };
        return resp;
      }
      return TextResponse(200, r.method + " " + r.path + " q=" + r.QueryParam("namespace", "default") + " body=" +
                                   r.body + "\n");
    };
    auto s = Server::Start(sock_.string(), handler, {.workers = 2, .body_limit = 1024});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_, sock_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> stream_ended_{false};
};

TEST_F(ServerHandlerTest, MethodsBodiesAndQueries) {
  std::string r = Exchange(sock_, "PATCH /containers/x?namespace=a%2Fb&x=1 HTTP/1.1\r\nHost: d\r\n"
                                  "Content-Length: 5\r\n\r\nhello");
  EXPECT_NE(r.find("PATCH /containers/x q=a/b body=hello"), std::string::npos) << r;
  std::string big = "POST /x HTTP/1.1\r\nHost: d\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x');
  EXPECT_NE(Exchange(sock_, big).find("413"), std::string::npos);
}

TEST_F(ServerHandlerTest, ASlowHandlerDoesNotHoldOthersUp) {
  std::thread slow([&] { Exchange(sock_, "GET /slow HTTP/1.1\r\nHost: d\r\n\r\n"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  EXPECT_NE(Exchange(sock_, "GET /quick HTTP/1.1\r\nHost: d\r\n\r\n").find("200 OK"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  slow.join();
}

TEST_F(ServerHandlerTest, StreamsChunksUntilTheClientHangsUp) {
  int fd = OpenStream(sock_);
  ASSERT_GE(fd, 0);
  std::string got;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.find("{\"n\":2}") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("{\"n\":0}"), std::string::npos) << got;
  EXPECT_NE(got.find("{\"n\":2}"), std::string::npos) << got;
  ::close(fd);  // the producer notices and returns
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!stream_ended_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(stream_ended_);
}

TEST_F(ServerHandlerTest, StoppingTheServerEndsOpenStreams) {
  int fd = OpenStream(sock_);
  ASSERT_GE(fd, 0);
  std::string got;
  char buf[256];
  while (got.find("{\"n\":0}") == std::string::npos) {  // the producer runs
    ssize_t n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  auto start = std::chrono::steady_clock::now();
  server_.reset();  // joins the producer: it must see closed()
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(stream_ended_);
  ::close(fd);
}

}  // namespace
}  // namespace berth::http
