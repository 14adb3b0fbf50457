// The REST API v1 (berthd --rest-address) against hostile clients, over raw loopback sockets:
//  - 1 000 malformed requests (broken JSON, wrong types, nesting bombs, non-UTF-8, oversized and
//    badly framed bodies, broken request lines and headers, path traversal in ids, namespaces and
//    bundle paths, unknown routes, wrong methods; a table of cases cycled with a seeded PRNG for
//    the garbage) are each answered promptly with a 4xx (or 501/503), as JSON {"error": ...} when
//    the REST layer answers, and change nothing: berthd still runs and serves, no container,
//    task, namespace or file appears, not even for a refused start that got as far as the
//    runtime; afterwards a real bundle still starts and deletes;
//  - slow clients (slowloris, more /events streams than the limit of 64) hold nobody else up,
//    the streams over the limit get 503, the server drops stuck clients at its deadline, and
//    berthd's fds and stream slots come back;
//  - clients hanging up in the middle of a request or before reading the answer leave nothing
//    behind (fds back to where they were).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

constexpr auto kRequestTimeout = 15s;  // per hostile request: more is a hang
constexpr uint32_t kSeed = 20240611u;  // the PRNG's, per request: seed + index

// What a refused request may get: the REST layer's 4xx, 501 for what is not implemented, 503
// when busy. Never another 5xx, never silence.
const std::set<int> kAllowed = {400, 404, 405, 409, 413, 501, 503};

// ---- raw loopback HTTP ---------------------------------------------------------------------

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with an RST (SO_LINGER 0) instead of a FIN: a client that was killed.
  void Reset() {
    if (fd_ >= 0) {
      linger l{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    Close();
  }

 private:
  int fd_ = -1;
};

// A blocking TCP connection to 127.0.0.1:port (-1 and errno on failure).
int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Bytes as text for a failure message: printable ASCII as is, the rest \xNN, at most `max`.
std::string Printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// The status of "HTTP/1.x NNN ..." (-1 for anything else).
int StatusOf(std::string_view raw) {
  if (raw.size() < 12 || raw.substr(0, 7) != "HTTP/1." || raw[8] != ' ') return -1;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return -1;
    code = code * 10 + (raw[i] - '0');
  }
  return code;
}

struct Answer {
  int status = -1;  // -1: no HTTP answer came back
  bool timed_out = false;
  std::string content_type, body;
  std::string failure;  // why there is no status
  std::chrono::milliseconds elapsed{0};
};

// Connects, sends `request` (reading meanwhile: the server may answer and hang up before it
// has read everything, e.g. 413), half-closes (so a truncated request ends at once instead of
// at the server's deadline) unless `half_close` is false, and reads the answer until the server
// closes (or resets) the connection, or `timeout` passes.
Answer Exchange(int port, const std::string& request, std::chrono::milliseconds timeout = kRequestTimeout,
                bool half_close = true) {
  Answer a;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  Fd fd(ConnectLoopback(port));
  if (!fd.valid()) {
    a.failure = std::string("connect: ") + std::strerror(errno);
    return a;
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
  size_t sent = 0;
  bool writing = true;
  std::string raw;
  for (;;) {
    if (writing && sent == request.size()) {
      if (half_close) ::shutdown(fd.get(), SHUT_WR);
      writing = false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      a.timed_out = true;
      break;
    }
    pollfd p{fd.get(), static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      a.failure = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (r == 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[16384];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) {
        raw.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) break;  // closed: the whole answer is in
      bool again = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      // A reset after the answer (the server closed with our bytes unread): what it said is in.
      if (!again || (p.revents & (POLLHUP | POLLERR))) break;
    }
    if (writing && (p.revents & POLLOUT)) {
      size_t chunk = std::min<size_t>(request.size() - sent, 64 * 1024);
      ssize_t n = ::send(fd.get(), request.data() + sent, chunk, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        writing = false;  // the server hung up on us: read what it answered
      }
    }
  }
  a.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  a.status = StatusOf(raw);
  size_t end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (size_t ct = lower.find("\r\ncontent-type:"); ct != std::string::npos) {
    size_t from = ct + 15, to = head.find("\r\n", from);
    a.content_type = head.substr(from, to == std::string::npos ? std::string::npos : to - from);
    a.content_type.erase(0, a.content_type.find_first_not_of(' '));
  }
  if (end != std::string::npos) a.body = raw.substr(end + 4);
  if (a.timed_out) {
    a.failure = "no answer within " + std::to_string(timeout.count()) + " ms (" + std::to_string(sent) + " of " +
                std::to_string(request.size()) + " bytes sent, got: " + Printable(raw, 120) + ")";
  } else if (a.status < 0 && a.failure.empty()) {
    a.failure = raw.empty() ? "connection closed without an answer" : "not an HTTP answer: " + Printable(raw, 120);
  }
  return a;
}

// Reads until the end of an answer's head (or close, or `timeout`): what came.
std::string ReadHead(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string raw;
  while (raw.find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;
    }
  }
  return raw;
}

// True once the server has closed (or reset) the connection; drains whatever it sent.
bool PeerClosed(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return true;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

// A well-formed HTTP/1.1 request (Content-Length for a body, and always for POST/PUT/PATCH).
std::string Http(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& headers = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: berth-e2e-hostile\r\n" + headers;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

std::string Chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + data + "\r\n";
}

std::string ChunkedPost(const std::string& target, const std::string& chunks, const std::string& headers = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + headers +
         "Transfer-Encoding: chunked\r\n\r\n" + chunks;
}

std::string RandomBytes(std::mt19937& rng, size_t n, int lo = 0, int hi = 255) {
  std::uniform_int_distribution<int> byte(lo, hi);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(byte(rng));
  return s;
}

size_t RandomSize(std::mt19937& rng, size_t lo, size_t hi) {
  return std::uniform_int_distribution<size_t>(lo, hi)(rng);
}

// A JSON string literal for an (ASCII) path.
std::string J(const std::string& s) { return json(s).dump(); }

bool IsJsonError(const Answer& a) {
  if (a.content_type.rfind("application/json", 0) != 0) return false;
  json e = json::parse(a.body, nullptr, false);
  return e.is_object() && e.contains("error") && e["error"].is_string();
}

// ---- the hostile requests -------------------------------------------------------------------

// Who must answer: the REST layer (the request is well-formed HTTP: a JSON error, unless the
// server itself refuses it as too large or too many) or possibly the HTTP parser (any body).
enum class Layer { kRest, kHttp };

using Maker = std::function<std::string(int i, std::mt19937& rng)>;

struct Case {
  std::string name;
  Layer layer;
  std::set<int> want;  // empty: any of kAllowed
  Maker make;
};

// Bundle-like directories under the test's dir, each wrong in its own way (none can start).
struct Bundles {
  fs::path etc_link, bad_json, no_process, bad_process, no_root, root_missing, root_escape, config_dir, deep_config,
      huge_config, proc_config, regular_file, unstartable, non_utf8_link;
};

// A spec that passes every check of the REST layer but cannot start: its binary does not exist
// (runc refuses it at create).
constexpr const char* kUnstartableConfig = R"({
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/no/such/binary-berth-hostile"],
              "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"},
  "root": {"path": "rootfs"},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}
})";

void WriteFile(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

Bundles MakeBundles(const fs::path& base) {
  Bundles b;
  fs::create_directories(base);
  auto bundle = [&base](const std::string& dir_name, const std::string& config, bool rootfs) {
    fs::path d = base / dir_name;
    fs::create_directories(d);
    if (rootfs) fs::create_directories(d / "rootfs");
    if (!config.empty()) WriteFile(d / "config.json", config);
    return d;
  };
  b.etc_link = base / "etc-link";
  fs::create_directory_symlink("/etc", b.etc_link);
  b.bad_json = bundle("bad-json", "{\"process\": ", true);
  b.no_process = bundle("no-process", R"({"root": {"path": "rootfs"}})", true);
  b.bad_process = bundle("bad-process", R"({"process": {"args": 5}, "root": {"path": "rootfs"}})", true);
  b.no_root = bundle("no-root", R"({"process": {"args": ["true"]}})", true);
  b.root_missing = bundle("root-missing", R"({"process": {"args": ["true"]}, "root": {"path": "missing"}})", false);
  b.root_escape =
      bundle("root-escape",
             R"({"process": {"args": ["true"]}, "root": {"path": "../../../../../../../../../no/such/root"}})", true);
  b.config_dir = bundle("config-dir", "", true);
  fs::create_directories(b.config_dir / "config.json");
  b.deep_config = bundle("deep-config", std::string(100000, '['), true);
  b.huge_config = bundle("huge-config", "", true);
  WriteFile(b.huge_config / "config.json", "");
  fs::resize_file(b.huge_config / "config.json", 5 << 20);  // sparse, over the 4 MiB spec limit
  b.proc_config = bundle("proc-config", "", true);
  fs::create_symlink("/proc/self/status", b.proc_config / "config.json");  // a size-0 procfs file
  b.regular_file = base / "regular-file";
  WriteFile(b.regular_file, "not a bundle\n");
  b.unstartable = bundle("unstartable", kUnstartableConfig, true);
  // A valid-looking bundle whose canonical path is not UTF-8 (reached through a UTF-8 symlink).
  fs::path odd = base / std::string("bundle-\xff\xfe");
  fs::create_directories(odd / "rootfs");
  WriteFile(odd / "config.json", kUnstartableConfig);
  b.non_utf8_link = base / "non-utf8-link";
  fs::create_directory_symlink(odd, b.non_utf8_link);
  return b;
}

// The table. Every request names container "hostile-<pid>-<i>" (i: the request's index), a third
// of them in namespace `ns`; none can create anything.
std::vector<Case> HostileCases(const std::string& pid, const std::string& ns, const Bundles& b) {
  std::vector<Case> cases;
  auto cid = [pid](int i) { return "/containers/hostile-" + pid + "-" + std::to_string(i); };
  auto q = [ns](int i) { return i % 3 == 1 ? "?namespace=" + ns : std::string(); };
  auto add = [&cases](const std::string& name, Layer layer, std::set<int> want, Maker make) {
    cases.push_back(Case{name, layer, std::move(want), std::move(make)});
  };
  // A body to container i's route `suffix` (well-formed HTTP: the REST layer answers).
  auto body_to = [&](const std::string& method, const std::string& suffix, const std::string& name,
                     const std::string& body, std::set<int> want) {
    add(method + " " + suffix + " " + name, Layer::kRest, std::move(want),
        [=](int i, std::mt19937&) { return Http(method, cid(i) + suffix + q(i), body); });
  };
  auto start = [&](const std::string& name, const std::string& body, std::set<int> want) {
    body_to("POST", "", name, body, std::move(want));
  };
  // A raw request, maybe not HTTP at all (the parser may answer: any refusal, any body).
  auto raw = [&](const std::string& name, std::set<int> want, Maker make) {
    add(name, Layer::kHttp, std::move(want), std::move(make));
  };

  // Truncated JSON bodies, cut at a random point.
  struct Truncated {
    std::string method, suffix, full;
  };
  for (const Truncated& t : std::vector<Truncated>{
           {"POST", "", R"({"bundlePath": "/etc", "labels": ["a=b", "c"], "runtime": "runc", "stdout": "/dev/null"})"},
           {"PATCH", "", R"({"status": "paused", "signal": 9})"},
           {"PUT", "/process", R"({"args": ["sh", "-c", "true"], "user": {"uid": 0, "gid": 0}, "env": ["A=b"]})"},
           {"POST", "/process/1", R"({"signal": 15})"}}) {
    add(t.method + " " + t.suffix + " truncated JSON", Layer::kRest, {400}, [=](int i, std::mt19937& rng) {
      return Http(t.method, cid(i) + t.suffix + q(i), t.full.substr(0, RandomSize(rng, 1, t.full.size() - 1)));
    });
  }
  // Wrong JSON types for every field of a start.
  for (const std::string v :
       {"7", "-1", "1.5", "[]", "[\"/etc\"]", "{}", "{\"path\": \"/etc\"}", "true", "false", "null"}) {
    start("bundlePath " + v, "{\"bundlePath\": " + v + "}", {400});
  }
  for (const std::string v : {"\"a=b\"", "5", "{\"a\": \"b\"}", "[1]", "[null]", "[[\"a\"]]", "true", "[\"a\", 2]"}) {
    start("labels " + v, "{\"bundlePath\": \"/etc\", \"labels\": " + v + "}", {400});
  }
  for (const std::string f : {"checkpoint", "stdin", "stdout", "stderr", "runtime"}) {
    start(f + " a number", "{\"bundlePath\": \"/etc\", \"" + f + "\": 1}", {400});
    start(f + " an array", "{\"bundlePath\": \"/etc\", \"" + f + "\": [\"/dev/null\"]}", {400});
  }
  for (const std::string v : {"[]", "\"/etc\"", "1", "null", "true", "", " ", "{}", "{\"bundlepath\": \"/etc\"}"}) {
    start("body " + (v.empty() ? "empty" : v), v, {400});
  }
  // Nesting bombs.
  start("100000 '['", std::string(100000, '['), {400});
  {
    std::string objects;
    for (int k = 0; k < 20000; ++k) objects += "{\"a\":";
    start("20000 nested objects", objects, {400});
  }
  start("33 levels", std::string(33, '[') + std::string(33, ']'), {400});
  start("41 levels inside a valid start",
        "{\"bundlePath\": \"/etc\", \"x\": " + std::string(41, '[') + std::string(41, ']') + "}", {400});
  start("']' before '['", std::string(50000, ']') + std::string(50000, '['), {400});
  start("'[' in a string", "{\"bundlePath\": \"" + std::string(100000, '[') + "\"}", {400});
  // Not UTF-8.
  start("non-UTF-8 bundlePath", "{\"bundlePath\": \"/\xff\xfe\"}", {400});
  start("overlong UTF-8 label", "{\"bundlePath\": \"/etc\", \"labels\": [\"\xc0\xaf\"]}", {400});
  start("UTF-16 body", std::string("\xff\xfe{\0\"\0}\0", 8), {400});
  start("BOM then a start", "\xef\xbb\xbf{\"bundlePath\": \"/etc\"}", {400, 404});
  start("NUL inside bundlePath", R"({"bundlePath": "/etc\u0000/x"})", {400, 404});
  start("lone surrogate", R"({"bundlePath": "/etc\udc00"})", {400});
  add("POST random bytes body", Layer::kRest, {400}, [=](int i, std::mt19937& rng) {
    return Http("POST", cid(i) + q(i), "\xff" + RandomBytes(rng, RandomSize(rng, 1, 4000)));
  });
  add("PATCH random bytes body", Layer::kRest, {400}, [=](int i, std::mt19937& rng) {
    return Http("PATCH", cid(i) + q(i), "\xfe" + RandomBytes(rng, RandomSize(rng, 1, 4000)));
  });
  // Bundle paths: relative, system directories, traversal, symlinks, half bundles.
  for (const std::string p : {"../../etc", "etc", "./", "..", "~/x", " /etc", "\\etc", "file:///etc"}) {
    start("relative bundlePath " + p, "{\"bundlePath\": " + J(p) + "}", {400});
  }
  start("empty bundlePath", R"({"bundlePath": ""})", {400});
  for (const std::string p : {"/proc/self", "/proc/self/root", "/proc/1/root", "/", "/etc", "/etc/", "/etc/../etc",
                              "//etc", "/etc/passwd", "/dev/null", "/sys/fs/cgroup", "/no/such/bundle"}) {
    start("bundlePath " + p, "{\"bundlePath\": " + J(p) + "}", {404});
  }
  start("bundlePath 5000 chars", "{\"bundlePath\": \"/" + std::string(5000, 'a') + "\"}", {404});
  start("bundlePath 500000 chars", "{\"bundlePath\": \"/" + std::string(500000, 'a') + "\"}", {404});
  start("bundlePath a symlink to /etc", "{\"bundlePath\": " + J(b.etc_link.string()) + "}", {404});
  start("bundlePath a regular file", "{\"bundlePath\": " + J(b.regular_file.string()) + "}", {404});
  start("bundle: config.json not JSON", "{\"bundlePath\": " + J(b.bad_json.string()) + "}", {400});
  start("bundle: no process", "{\"bundlePath\": " + J(b.no_process.string()) + "}", {400});
  start("bundle: process args a number", "{\"bundlePath\": " + J(b.bad_process.string()) + "}", {400});
  start("bundle: no root", "{\"bundlePath\": " + J(b.no_root.string()) + "}", {400});
  start("bundle: root missing", "{\"bundlePath\": " + J(b.root_missing.string()) + "}", {404});
  start("bundle: root ../../.. outside", "{\"bundlePath\": " + J(b.root_escape.string()) + "}", {404});
  start("bundle: config.json a directory", "{\"bundlePath\": " + J(b.config_dir.string()) + "}", {404});
  start("bundle: config.json 100000 '['", "{\"bundlePath\": " + J(b.deep_config.string()) + "}", {400});
  start("bundle: config.json over 4 MiB", "{\"bundlePath\": " + J(b.huge_config.string()) + "}", {400});
  start("bundle: config.json a symlink into /proc", "{\"bundlePath\": " + J(b.proc_config.string()) + "}", {400});
  // A bundle that passes every check, with one bad field that must stop it before anything is
  // made (labels and stdio come after the bundle is read).
  const std::string u = J(b.unstartable.string());
  start("good bundle, label without key", "{\"bundlePath\": " + u + ", \"labels\": [\"=x\"]}", {400});
  start("good bundle, label over 4096 bytes",
        "{\"bundlePath\": " + u + ", \"labels\": [\"k=" + std::string(5000, 'v') + "\"]}", {400});
  start("good bundle, relative stdin", "{\"bundlePath\": " + u + ", \"stdin\": \"in\"}", {400});
  start("good bundle, missing stdin", "{\"bundlePath\": " + u + ", \"stdin\": \"/no/such/stdin-berth-hostile\"}",
        {404});
  start("good bundle, relative stdout", "{\"bundlePath\": " + u + ", \"stdout\": \"../out\"}", {400});
  start("good bundle, relative stderr", "{\"bundlePath\": " + u + ", \"stderr\": \"err\"}", {400});
  start("good bundle, stdio into /etc, bad label",
        "{\"bundlePath\": " + u +
            ", \"stdout\": \"/etc/berth-hostile-out\", \"stderr\": \"/etc/berth-hostile-err\", \"labels\": [\"=x\"]}",
        {400});
  start("bundle through a symlink to a non-UTF-8 dir, bad label",
        "{\"bundlePath\": " + J(b.non_utf8_link.string()) + ", \"labels\": [\"=x\"]}", {400});
  start("checkpoint restore, no bundle", R"({"bundlePath": "/etc", "checkpoint": "c1"})", {404});
  start("checkpoint restore, bad bundle type", R"({"bundlePath": 5, "checkpoint": "c1"})", {400});
  start("duplicate keys", R"({"bundlePath": "/etc", "bundlePath": 5})", {400, 404});
  // PATCH /containers/{id}
  for (const std::string v : {R"({"signal": "KILL"})",
                              R"({"signal": 9.5})",
                              R"({"signal": 1e300})",
                              R"({"signal": 18446744073709551616})",
                              R"({"signal": 18446744073709551615})",
                              R"({"signal": 99999999999999999999999})",
                              R"({"signal": -9})",
                              R"({"signal": 0})",
                              R"({"signal": 65})",
                              R"({"signal": 2147483648})",
                              R"({"signal": true})",
                              R"({"signal": null})",
                              R"({"signal": [9]})",
                              R"({"status": "unknown"})",
                              R"({"status": "PAUSED"})",
                              R"({"status": 1})",
                              R"({"status": ""})",
                              R"({})",
                              R"({"status": "paused", "signal": "9"})",
                              R"([{"status": "paused"}])"}) {
    body_to("PATCH", "", v, v, {400});
  }
  body_to("PATCH", "", "valid pause of no container", R"({"status": "paused"})", {404});
  body_to("PATCH", "", "valid signal to no container", R"({"signal": 9})", {404});
  // PUT /containers/{id}/process (both spellings)
  for (const std::string suffix : {"/process", "/processes"}) {
    for (const std::string v :
         {R"({"args": "sh"})", R"({"args": []})", R"({"args": [1]})", R"({})",
          R"({"user": {"uid": -1}, "args": ["x"]})", R"({"user": {"uid": 4294967296}, "args": ["x"]})",
          R"({"user": {"uid": 1.5}, "args": ["x"]})", R"({"user": {"gid": "0"}, "args": ["x"]})",
          R"({"user": "root", "args": ["x"]})", R"({"user": {"additionalGids": [-1]}, "args": ["x"]})",
          R"({"user": {"additionalGids": 5}, "args": ["x"]})", R"({"env": "PATH=/", "args": ["x"]})",
          R"({"cwd": 5, "args": ["x"]})", R"({"terminal": "yes", "args": ["x"]})"}) {
      body_to("PUT", suffix, v, v, {400});
    }
    body_to("PUT", suffix, "valid exec in no container", R"({"args": ["true"]})", {404});
  }
  // POST /containers/{id}/process/{pid}
  for (const std::string p : {"notapid", "0", "-1", "99999999999", "1.5", "0x10", "%31", "1%00", "+1"}) {
    body_to("POST", "/process/" + p, "bad pid", R"({"signal": 15})", {400});
  }
  for (const std::string v : {R"({"signal": "TERM"})", R"({})", R"({"signal": 0})", R"({"signal": 1e3})", "[15]"}) {
    body_to("POST", "/process/1", v, v, {400});
  }
  body_to("POST", "/process/1", "valid signal to no container", R"({"signal": 15})", {404});
  // Checkpoints
  body_to("POST", "/checkpoint/..", "name ..", R"({"exit": false})", {400});
  body_to("POST", "/checkpoint/a%2Fb", "name a%2Fb", R"({"exit": false})", {400});
  body_to("POST", "/checkpoint/c1", "of no container", R"({"exit": "yes"})", {404});
  body_to("DELETE", "/checkpoint/c1", "of no container", "", {404});
  body_to("GET", "/checkpoint", "list of no container", "", {404});
  // Path traversal and invalid characters in ids.
  for (const std::string& target : std::vector<std::string>{"/containers/..",
                                                            "/containers/../../etc",
                                                            "/containers/a%2F..%2Fb",
                                                            "/containers/%2e%2e",
                                                            "/containers/%2E%2E%2F%2E%2E%2Fetc",
                                                            "/containers/a%20b",
                                                            "/containers/.",
                                                            "/containers/-x",
                                                            "/containers/x-",
                                                            "/containers/a..b",
                                                            "/containers/a__b",
                                                            "/containers/" + std::string(300, 'a'),
                                                            "/containers/" + std::string(77, 'a'),
                                                            "/containers/\xff\xfe\xfd",
                                                            "/containers/a%00b",
                                                            "/containers/a\\..\\b",
                                                            "/containers/a;b",
                                                            "/containers/$(id)",
                                                            "/containers/..%2f..%2fetc%2fpasswd",
                                                            "/containers/../../etc/process",
                                                            "/containers/%2e%2e/checkpoint"}) {
    for (const std::string method : {"POST", "PATCH", "DELETE", "PUT"}) {
      std::string suffix = method == "PUT" ? "/process" : "";
      std::string body = method == "DELETE" ? "" : method == "POST" ? R"({"bundlePath": "/etc"})" : R"({"signal": 9})";
      if (method == "PUT") body = R"({"args": ["true"]})";
      add(method + " " + Printable(target, 60) + suffix, Layer::kRest, {400},
          [=](int i, std::mt19937&) { return Http(method, target + suffix + q(i), body); });
    }
  }
  add("POST an id with a slash", Layer::kRest, {404},
      [=](int i, std::mt19937&) { return Http("POST", cid(i) + "/b" + q(i), R"({"bundlePath": "/etc"})"); });
  add("POST an id with ../ after it", Layer::kRest, {404},
      [=](int i, std::mt19937&) { return Http("POST", cid(i) + "/process/1/../../.." + q(i), R"({"signal": 9})"); });
  add("random id bytes", Layer::kRest, {400, 404, 405}, [=](int, std::mt19937& rng) {
    std::string id = RandomBytes(rng, RandomSize(rng, 1, 200), 0x21, 0xff);
    std::replace(id.begin(), id.end(), '\x7f', '-');
    return Http("DELETE", "/containers/" + id);
  });
  // Unknown routes.
  for (const std::string target : {"/", "/v1/state", "/containers", "/containers/", "/STATE", "/state/x", "/../state",
                                   "/%73tate", "/state;x", "/state#x", "/events/x", "/metrics", "/debug/pprof",
                                   "/../../etc/passwd", "*", "http://127.0.0.1/state", "127.0.0.1:1"}) {
    for (const std::string method : {"GET", "POST"}) {
      add(method + " " + target, Layer::kRest, {404},
          [=](int, std::mt19937&) { return Http(method, target, method == "POST" ? "{}" : ""); });
    }
  }
  add("GET container i's unknown sub-route", Layer::kRest, {404},
      [=](int i, std::mt19937&) { return Http("GET", cid(i) + "/unknown" + q(i)); });
  // Wrong methods.
  for (const std::string method :
       {"POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "get"}) {
    add(method + " /state", Layer::kRest, {405}, [=](int, std::mt19937&) { return Http(method, "/state"); });
  }
  for (const std::string target : {"//state", "/state/", "state"}) {
    add("DELETE " + target, Layer::kRest, {405}, [=](int, std::mt19937&) { return Http("DELETE", target); });
  }
  for (const std::string method : {"POST", "PUT", "DELETE"}) {
    add(method + " /events", Layer::kRest, {405}, [=](int, std::mt19937&) { return Http(method, "/events"); });
  }
  struct Wrong {
    std::string method, suffix;
  };
  for (const Wrong& w : std::vector<Wrong>{{"GET", ""},
                                           {"PUT", ""},
                                           {"HEAD", ""},
                                           {"OPTIONS", ""},
                                           {"GET", "/process"},
                                           {"POST", "/process"},
                                           {"DELETE", "/processes"},
                                           {"GET", "/process/1"},
                                           {"PUT", "/process/1"},
                                           {"PATCH", "/process/1"},
                                           {"POST", "/checkpoint"},
                                           {"PUT", "/checkpoint"},
                                           {"GET", "/checkpoint/c1"},
                                           {"PATCH", "/checkpoint/c1"}}) {
    add(w.method + " container" + w.suffix, Layer::kRest, {405}, [=](int i, std::mt19937&) {
      return Http(w.method, cid(i) + w.suffix + q(i), w.method == "GET" || w.method == "HEAD" ? "" : "{}");
    });
  }
  // Namespaces.
  for (const std::string& query : std::vector<std::string>{
           "namespace=../x", "namespace=..%2Fx", "namespace=%2e%2e%2fx", "namespace=", "namespace", "namespace=a%00b",
           "namespace=%ff", "namespace=a+b", "namespace=default/../x", "namespace=-x", "namespace=x..", "namespace=%",
           "namespace=../x&namespace=default", "namespace=" + std::string(300, 'n'), "namespace=\xff\xfe"}) {
    add("GET /state?" + Printable(query, 40), Layer::kRest, {400},
        [=](int, std::mt19937&) { return Http("GET", "/state?" + query); });
    add("GET /events?" + Printable(query, 40), Layer::kRest, {400},
        [=](int, std::mt19937&) { return Http("GET", "/events?" + query); });
    add("POST container?" + Printable(query, 40), Layer::kRest, {400},
        [=](int i, std::mt19937&) { return Http("POST", cid(i) + "?" + query, R"({"bundlePath": "/etc"})"); });
    add("DELETE container?" + Printable(query, 40), Layer::kRest, {400},
        [=](int i, std::mt19937&) { return Http("DELETE", cid(i) + "?" + query); });
  }

  // ---- HTTP-level garbage: the parser may answer (any refusal) ----
  // Request lines. The target is always one that cannot succeed if the line were accepted.
  for (const std::string line :
       {"GARBAGE", " / HTTP/1.1", "DELETE  /containers/x HTTP/1.1", "DELETE /containers/x",
        "DELETE /containers/x HTTP/1.1 extra", "DELETE /containers/a b HTTP/1.1", "DELETE /containers/x\x01y HTTP/1.1",
        "GE@T /containers/x HTTP/1.1", "GET\t/containers/x HTTP/1.1", "DELETE\x80 /containers/x HTTP/1.1", "",
        "HTTP/1.1", "DELETE /containers/x HTTP/1.1\x7f"}) {
    raw("request line " + Printable(line, 40), {},
        [=](int, std::mt19937&) { return line + "\r\nHost: 127.0.0.1\r\n\r\n"; });
  }
  raw("NUL in the method", {}, [](int, std::mt19937&) {
    static constexpr char kRequest[] = "DEL\0ETE /containers/x HTTP/1.1\r\n\r\n";
    return std::string(kRequest, sizeof kRequest - 1);
  });
  raw("NUL in the target", {}, [=](int i, std::mt19937&) {
    return "DELETE " + cid(i) + std::string("\0", 1) + "x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  });
  raw("LF line endings", {}, [=](int i, std::mt19937&) { return "DELETE " + cid(i) + " HTTP/1.1\nHost: x\n\n"; });
  raw("CR line endings", {}, [=](int i, std::mt19937&) { return "DELETE " + cid(i) + " HTTP/1.1\rHost: x\r\r"; });
  raw("only CRLFs", {}, [](int, std::mt19937&) { return std::string("\r\n\r\n\r\n"); });
  raw("no end of head", {}, [=](int i, std::mt19937&) { return "DELETE " + cid(i) + " HTTP/1.1\r\nHost: x\r\n"; });
  for (const std::string version :
       {"HTTP/1", "HTTP/1.", "HTTPS/1.1", "http/1.1", "HTTP/1.1.1", "HTTP/x.y", "HTTP/11.1", "HTTP/1.12", "HTTP/0.9",
        "HTTP/2.0", "HTTP/9.9", "HTTP/1,1", "HTTP /1.1", "XTTP/1.1", "HTTP/-1.1", "HTTP/1.1\xff"}) {
    raw("version " + Printable(version, 20), {},
        [=](int i, std::mt19937&) { return "DELETE " + cid(i) + " " + version + "\r\nHost: 127.0.0.1\r\n\r\n"; });
  }
  raw("method of 10000 chars", {}, [](int, std::mt19937&) { return Http(std::string(10000, 'A'), "/state"); });
  raw("method of 20000 chars", {413}, [](int, std::mt19937&) { return Http(std::string(20000, 'A'), "/state"); });
  raw("target of 20000 chars", {413},
      [](int, std::mt19937&) { return Http("DELETE", "/containers/" + std::string(20000, 'a')); });
  raw("header line of 20000 chars", {413},
      [=](int i, std::mt19937&) { return Http("DELETE", cid(i), "", "X-Big: " + std::string(20000, 'a') + "\r\n"); });
  raw("2000 headers", {413}, [=](int i, std::mt19937&) {
    std::string headers;
    for (int k = 0; k < 2000; ++k) headers += "X-H" + std::to_string(k) + ": v\r\n";
    return Http("DELETE", cid(i), "", headers);
  });
  raw("header line of 20000 chars without an end", {413},
      [=](int i, std::mt19937&) { return "DELETE " + cid(i) + " HTTP/1.1\r\nX-Big: " + std::string(20000, 'a'); });
  for (const std::string& header :
       std::vector<std::string>{"NoColon", "Bad Name: x", ": novalue", std::string("X: a\0b", 6), "X: a\rb",
                                "X: a\r\n b", "X\xff: v", "X: \xff\xfe", "Host: a\r\nHost: b", "Expect: 100-continue",
                                "Connection: keep-alive, upgrade\r\nUpgrade: h2c", "Content-Type: \x01"}) {
    raw("header " + Printable(header, 40), {},
        [=](int i, std::mt19937&) { return Http("DELETE", cid(i) + q(i), "", header + "\r\n"); });
  }
  // Content-Length
  const std::string start_body = R"({"bundlePath": "/etc"})";
  for (const std::string cl : {"abc", "-1", "1e3", "", "10, 20", "18446744073709551616", "99999999999999999999999",
                               "+5", "0x10", " 5 5", "5\r\nContent-Length: 6", "22\r\nContent-Length: 22", "\xff"}) {
    raw("Content-Length " + Printable(cl, 40), {}, [=](int i, std::mt19937&) {
      return "POST " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + cl + "\r\n\r\n" +
             start_body;
    });
  }
  add("Content-Length shorter than the body", Layer::kRest, {400}, [=](int i, std::mt19937&) {
    return "POST " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\n" + start_body +
           std::string(200, ' ');
  });
  raw("Content-Length longer than the body", {}, [=](int i, std::mt19937&) {
    return "POST " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n" + start_body;
  });
  raw("Content-Length and chunked", {}, [=](int i, std::mt19937&) {
    return ChunkedPost(cid(i) + q(i), Chunk(start_body) + "0\r\n\r\n",
                       "Content-Length: " + std::to_string(start_body.size()) + "\r\n");
  });
  // Chunked bodies with bad chunk sizes and framing.
  for (const std::string size : {"zz", "-1", "fffffffffffffffffffff", "", " 5", "5 ", "0x5", "1;", "5;a=\"b",
                                 "7fffffffffffffff", "ffffffffffffffff", "\xff"}) {
    raw("chunk size " + Printable(size, 30), {},
        [=](int i, std::mt19937&) { return ChunkedPost(cid(i) + q(i), size + "\r\nabcde\r\n0\r\n\r\n"); });
  }
  raw("chunk longer than its size", {},
      [=](int i, std::mt19937&) { return ChunkedPost(cid(i) + q(i), "3\r\nabcdef\r\n0\r\n\r\n"); });
  raw("no last chunk", {}, [=](int i, std::mt19937&) { return ChunkedPost(cid(i) + q(i), Chunk(start_body)); });
  raw("bad trailer", {},
      [=](int i, std::mt19937&) { return ChunkedPost(cid(i) + q(i), Chunk(start_body) + "0\r\nBad Trailer\r\n\r\n"); });
  add("chunked garbage JSON", Layer::kRest, {400}, [=](int i, std::mt19937& rng) {
    return ChunkedPost(cid(i) + q(i), Chunk("\xff" + RandomBytes(rng, 100)) + Chunk("}") + "0\r\n\r\n");
  });
  add("chunked start of /etc", Layer::kRest, {404}, [=](int i, std::mt19937&) {
    return ChunkedPost(cid(i) + q(i), Chunk(start_body.substr(0, 10)) + Chunk(start_body.substr(10)) + "0\r\n\r\n");
  });
  raw("Transfer-Encoding twice", {}, [=](int i, std::mt19937&) {
    return ChunkedPost(cid(i) + q(i), Chunk(start_body) + "0\r\n\r\n", "Transfer-Encoding: chunked\r\n");
  });
  for (const std::string te : {"chunked, gzip", "gzip", "identity", "chunked;q=1", "\xff"}) {
    raw("Transfer-Encoding " + Printable(te, 20), {}, [=](int i, std::mt19937&) {
      return "POST " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: " + te + "\r\n\r\n" +
             Chunk(start_body) + "0\r\n\r\n";
    });
  }
  // Bodies over the 1 MiB limit, with and without Content-Length.
  const std::string two_mib(2 << 20, 'x');
  raw("2 MiB body with Content-Length", {413},
      [=](int i, std::mt19937&) { return Http("POST", cid(i) + q(i), two_mib); });
  raw("1 MiB + 1 body with Content-Length", {413},
      [=](int i, std::mt19937&) { return Http("POST", cid(i) + q(i), std::string((1 << 20) + 1, '[')); });
  raw("Content-Length 1 TiB", {413}, [=](int i, std::mt19937&) {
    return "POST " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1099511627776\r\n\r\n" +
           start_body;
  });
  raw("2 MiB chunked in 64 KiB chunks", {413}, [=](int i, std::mt19937&) {
    std::string chunks;
    for (int k = 0; k < 32; ++k) chunks += Chunk(std::string(64 << 10, 'x'));
    return ChunkedPost(cid(i) + q(i), chunks + "0\r\n\r\n");
  });
  raw("one 2 MiB chunk", {413},
      [=](int i, std::mt19937&) { return ChunkedPost(cid(i) + q(i), Chunk(two_mib) + "0\r\n\r\n"); });
  add("exactly 1 MiB of '['", Layer::kRest, {400},
      [=](int i, std::mt19937&) { return Http("POST", cid(i) + q(i), std::string(1 << 20, '[')); });
  add("HTTP/1.0 POST without Content-Length, 2 MiB after it", Layer::kRest, {400},
      [=](int i, std::mt19937&) { return "POST " + cid(i) + q(i) + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" + two_mib; });
  // PRNG garbage.
  raw("random bytes", {}, [](int, std::mt19937& rng) { return RandomBytes(rng, RandomSize(rng, 1, 4000)); });
  raw("random printable bytes", {},
      [](int, std::mt19937& rng) { return RandomBytes(rng, RandomSize(rng, 1, 4000), 0x20, 0x7e) + "\r\n\r\n"; });
  raw("random header bytes", {}, [=](int i, std::mt19937& rng) {
    return "DELETE " + cid(i) + q(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + RandomBytes(rng, RandomSize(rng, 1, 4000)) +
           "\r\n\r\n";
  });
  raw("random chunk framing", {},
      [=](int i, std::mt19937& rng) { return ChunkedPost(cid(i) + q(i), RandomBytes(rng, RandomSize(rng, 1, 4000))); });
  return cases;
}

// ---- the fixture ----------------------------------------------------------------------------

std::set<std::string> Entries(const fs::path& dir, bool recursive) {
  std::set<std::string> out;
  std::error_code ec;
  if (recursive) {
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      out.insert(it->path().string());
    }
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.insert(it->path().string());
  }
  return out;
}

std::vector<std::string> Added(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> out;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(out));
  return out;
}

class RestHostileE2E : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { SuiteImage::Reset(); }

  void SetUp() override {
    pid_ = std::to_string(::getpid());
    dir_ = std::make_unique<TempDir>();
    daemon_ = std::make_unique<Berthd>(
        dir_->path() / "d", std::vector<std::string>{"--rest-address", "127.0.0.1:0", "--metrics-interval", "0"});
    ASSERT_TRUE(daemon_->running());
    std::smatch m;
    std::string log = daemon_->Log();
    ASSERT_TRUE(std::regex_search(log, m, std::regex("msg=\"serving REST API v1\".* port=([0-9]+)"))) << log;
    port_ = std::stoi(m[1].str());
  }

  void TearDown() override {
    if (!daemon_) return;
    if (!real_id_.empty() && DaemonAlive()) Exchange(port_, Http("DELETE", "/containers/" + real_id_), 60s);
    EXPECT_EQ(daemon_->Stop(), 0) << LogTail();
    EXPECT_THAT(ProcessesMentioning(daemon_->socket().string()), IsEmpty());
    for (const auto& ns : cgroup_namespaces_) EXPECT_THAT(RemoveNamespaceCgroups(ns), IsEmpty()) << ns;
    // default is shared with other tests running at the same time: only this test's container.
    if (!real_id_.empty()) {
      EXPECT_THAT(ContainerCgroupsLeft("default", real_id_), IsEmpty());
    }
    RemoveNamespaceCgroups("default");
  }

  std::string LogTail(size_t n = 4000) const {
    std::string log = daemon_->Log();
    return log.size() > n ? "...\n" + log.substr(log.size() - n) : log;
  }

  // Running, and not a zombie (a crashed daemon stays one until Stop reaps it).
  bool DaemonAlive() const {
    if (!daemon_ || !daemon_->running()) return false;
    std::string stat = ReadFile("/proc/" + std::to_string(daemon_->pid()) + "/stat");
    size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
  }

  int OpenFds() const {
    int n = 0;
    std::error_code ec;
    for (fs::directory_iterator it("/proc/" + std::to_string(daemon_->pid()) + "/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
      ++n;
    }
    return ec ? -1 : n;
  }

  // The fd count once it stops moving (two reads 200 ms apart agree; 10 s at most).
  int StableFdCount() const {
    int last = OpenFds();
    for (int k = 0; k < 50; ++k) {
      std::this_thread::sleep_for(200ms);
      int now = OpenFds();
      if (now == last) return now;
      last = now;
    }
    return last;
  }

  std::vector<std::string> Namespaces() const {
    auto r = daemon_->Ctr({"namespaces", "ls", "-q"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // GET /state of `ns`: its containers (a non-array when the answer is not 200 JSON).
  json StateContainers(const std::string& ns) {
    auto a = Exchange(port_, Http("GET", ns == "default" ? "/state" : "/state?namespace=" + ns));
    EXPECT_EQ(a.status, 200) << a.failure << " " << Printable(a.body);
    json st = json::parse(a.body, nullptr, false);
    return st.is_object() && st.contains("containers") ? st["containers"] : json();
  }

  // Files and directories under berthd's root and state named `name` (or containing it).
  std::vector<std::string> DaemonEntriesMentioning(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& dir : {daemon_->root(), daemon_->state()}) {
      for (const auto& p : Entries(dir, true)) {
        if (fs::path(p).filename().string().find(name) != std::string::npos) out.push_back(p);
      }
    }
    return out;
  }

  // The test image, pushed to a registry made on first use (only the last check of the first
  // test needs a real bundle), pulled into this daemon. "" after a failure.
  std::string PullTestImage() {
    std::string image = SuiteImage::Ref();
    if (image.empty()) return "";
    auto pulled = daemon_->Ctr({"images", "pull", "--plain-http", image}, 120s);
    EXPECT_EQ(pulled.exit_code, 0) << Describe(pulled);
    return pulled.exit_code == 0 ? image : "";
  }

  // n GET /events streams, each sent its request.
  std::vector<Fd> OpenStreams(int n) {
    std::vector<Fd> out;
    for (int k = 0; k < n; ++k) {
      Fd fd(ConnectLoopback(port_));
      EXPECT_TRUE(fd.valid()) << std::strerror(errno);
      if (!fd.valid()) break;
      EXPECT_TRUE(SendAll(fd.get(), Http("GET", "/events")));
      out.push_back(std::move(fd));
    }
    return out;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
  std::string pid_;
  int port_ = 0;
  std::string real_id_;                         // a started container TearDown deletes
  std::vector<std::string> cgroup_namespaces_;  // namespaces a task was (to be) made in
};


TEST_F(RestHostileE2E, ThousandMalformedRequestsChangeNothing) {
  // Before any REST request: what exists.
  const std::vector<std::string> namespaces_before = Namespaces();
  const std::string ns = "hostile-ns-" + pid_;
  const fs::path hostile_dir = dir_->path() / "hostile";
  const Bundles bundles = MakeBundles(hostile_dir);
  const std::vector<Case> cases = HostileCases(pid_, ns, bundles);
  ASSERT_LT(cases.size(), 1000u);
  const auto root_before = Entries("/", false), etc_before = Entries("/etc", false);
  const auto bundles_before = Entries(hostile_dir, true);
  const int fds_before = OpenFds();

  // 1 000 requests, from 4 clients at once, each request generated from its index alone.
  constexpr int kProbes = 1000, kClients = 4;
  std::vector<Answer> answers(kProbes);
  {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        for (int i = c; i < kProbes; i += kClients) {
          std::mt19937 rng(kSeed + static_cast<uint32_t>(i));
          const Case& hostile = cases[static_cast<size_t>(i) % cases.size()];
          answers[static_cast<size_t>(i)] = Exchange(port_, hostile.make(i, rng));
        }
      });
    }
    for (auto& client : clients) client.join();
  }

  std::vector<std::string> problems;
  std::map<int, int> histogram;
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < kProbes; ++i) {
    const Answer& a = answers[static_cast<size_t>(i)];
    const Case& hostile = cases[static_cast<size_t>(i) % cases.size()];
    ++histogram[a.status];
    slowest = std::max(slowest, a.elapsed);
    std::string where = "#" + std::to_string(i) + " [" + hostile.name + "]: ";
    std::string got = "status " + std::to_string(a.status) + " (" + a.content_type + ") " + Printable(a.body, 160);
    if (a.timed_out) {
      problems.push_back(where + "a hang: " + a.failure);
    } else if (a.status < 0) {
      problems.push_back(where + a.failure);
    } else if (kAllowed.count(a.status) == 0) {
      problems.push_back(where + "not an allowed refusal: " + got);
    } else if (!hostile.want.empty() && hostile.want.count(a.status) == 0) {
      std::string want;
      for (int w : hostile.want) want += std::to_string(w) + " ";
      problems.push_back(where + "expected " + want + "but " + got);
    } else if (hostile.layer == Layer::kRest && a.status != 413 && a.status != 503 && !IsJsonError(a)) {
      problems.push_back(where + "not a JSON {\"error\": ...} answer: " + got);
    }
  }
  std::string summary = "answers by status:";
  for (const auto& [status, n] : histogram) summary += " " + std::to_string(status) + "x" + std::to_string(n);
  summary += "; slowest " + std::to_string(slowest.count()) + " ms; " + std::to_string(cases.size()) + " cases";
  std::string first;
  for (size_t k = 0; k < problems.size() && k < 40; ++k) first += "\n  " + problems[k];
  EXPECT_EQ(problems.size(), 0u) << summary << first << "\n" << LogTail();

  // berthd is still there and serving, and nothing changed.
  ASSERT_TRUE(DaemonAlive()) << LogTail();
  auto version = daemon_->Ctr({"version"});
  EXPECT_EQ(version.exit_code, 0) << Describe(version);
  for (const std::string& n : {std::string("default"), ns}) {
    EXPECT_EQ(daemon_->Ctr({"-n", n, "containers", "ls", "-q"}).out, "") << n;
    EXPECT_EQ(daemon_->Ctr({"-n", n, "tasks", "ls", "-q"}).out, "") << n;
    EXPECT_EQ(StateContainers(n), json::array()) << n;
  }
  EXPECT_EQ(Namespaces(), namespaces_before)
      << "a namespace appeared: refused REST requests (or GET /state) must not make one";
  EXPECT_THAT(Added(root_before, Entries("/", false)), IsEmpty());
  EXPECT_THAT(Added(etc_before, Entries("/etc", false)), IsEmpty());
  EXPECT_THAT(Added(bundles_before, Entries(hostile_dir, true)), IsEmpty());
  EXPECT_THAT(DaemonEntriesMentioning("hostile"), IsEmpty());
  EXPECT_TRUE(WaitUntil([&] { return OpenFds() <= fds_before + 5; }, 20s))
      << "berthd's fds: " << OpenFds() << ", before: " << fds_before;

  // Refused starts that got as far as the runtime (a bundle whose binary does not exist; a
  // runtime that does not exist), each in a namespace of its own: an error, and no container,
  // task, state directory or namespace left behind.
  const std::string fresh[2] = {"hostile-fresh-" + pid_ + "-a", "hostile-fresh-" + pid_ + "-b"};
  const std::string bodies[2] = {
      "{\"bundlePath\": " + J(bundles.unstartable.string()) + "}",
      "{\"bundlePath\": " + J(bundles.unstartable.string()) + ", \"runtime\": \"/no/such/runtime-berth-hostile\"}"};
  cgroup_namespaces_ = {fresh[0], fresh[1]};
  for (int k = 0; k < 2; ++k) {
    const std::string id = "hostile-start-" + pid_ + "-" + std::to_string(k);
    auto a = Exchange(port_, Http("POST", "/containers/" + id + "?namespace=" + fresh[k], bodies[k]), 90s);
    EXPECT_GE(a.status, 400) << bodies[k] << ": " << a.failure << Printable(a.body) << LogTail();
    EXPECT_LT(a.status, 600);
    if (a.status == 201) {  // it started after all: do not leave it running
      Exchange(port_, Http("DELETE", "/containers/" + id + "?namespace=" + fresh[k]), 60s);
    }
    EXPECT_TRUE(IsJsonError(a)) << a.content_type << " " << Printable(a.body);
    EXPECT_EQ(daemon_->Ctr({"-n", fresh[k], "containers", "ls", "-q"}).out, "");
    EXPECT_EQ(daemon_->Ctr({"-n", fresh[k], "tasks", "ls", "-q"}).out, "");
    EXPECT_EQ(StateContainers(fresh[k]), json::array());
    EXPECT_THAT(DaemonEntriesMentioning(id), IsEmpty());
  }
  EXPECT_EQ(Namespaces(), namespaces_before) << "a refused start left its namespace behind";
  ASSERT_TRUE(DaemonAlive()) << LogTail();

  // A real bundle still starts, shows, and deletes.
  const std::string image = PullTestImage();
  ASSERT_FALSE(image.empty());
  const fs::path bundle = dir_->path() / "real-bundle";
  auto made = daemon_->Berth({"bundle", "create", image, bundle.string(), "--", "sleep", "100000"});
  ASSERT_EQ(made.exit_code, 0) << Describe(made);
  real_id_ = "hostile-after-" + pid_;
  auto started =
      Exchange(port_, Http("POST", "/containers/" + real_id_, "{\"bundlePath\": " + J(bundle.string()) + "}"), 90s);
  ASSERT_EQ(started.status, 201) << started.failure << Printable(started.body) << LogTail();
  json listed = StateContainers("default");
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], real_id_);
  EXPECT_EQ(listed[0]["state"]["status"], "running");
  auto deleted = Exchange(port_, Http("DELETE", "/containers/" + real_id_), 60s);
  EXPECT_EQ(deleted.status, 200) << deleted.failure << Printable(deleted.body);
  if (deleted.status == 200) real_id_.clear();
  EXPECT_EQ(StateContainers("default"), json::array());
  EXPECT_EQ(daemon_->Ctr({"containers", "ls", "-q"}).out, "");
}

TEST_F(RestHostileE2E, SlowClientsDoNotHoldOthersUp) {
  // Warm up (a request and a stream, so what the first of each sets up exists), then the
  // baseline.
  ASSERT_EQ(Exchange(port_, Http("GET", "/state")).status, 200);
  {
    auto warm = OpenStreams(1);
    ASSERT_EQ(warm.size(), 1u);
    EXPECT_EQ(StatusOf(ReadHead(warm[0].get(), 5s)), 200);
  }
  std::this_thread::sleep_for(1s);  // its producer notices the hang-up within 0.5 s
  const int baseline = StableFdCount();
  ASSERT_GT(baseline, 0);

  // 100 slow clients: a partial request line, partial headers, or a partial body, then a byte
  // now and then, never the end.
  std::vector<Fd> slow;
  for (int k = 0; k < 100; ++k) {
    Fd fd(ConnectLoopback(port_));
    ASSERT_TRUE(fd.valid()) << std::strerror(errno);
    std::string partial = k % 3 == 0   ? "GET /sta"
                          : k % 3 == 1 ? "GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"
                                       : "POST /containers/slow-" + pid_ +
                                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"bundle";
    ASSERT_TRUE(SendAll(fd.get(), partial));
    slow.push_back(std::move(fd));
  }
  auto last_trickle = Clock::now();
  auto trickle = [&] {
    if (Clock::now() - last_trickle < 1s) return;
    last_trickle = Clock::now();
    for (auto& fd : slow) {
      if (fd.valid()) ::send(fd.get(), "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  };

  // Meanwhile a normal request is answered at once.
  auto a = Exchange(port_, Http("GET", "/state"));
  EXPECT_EQ(a.status, 200) << a.failure;
  EXPECT_LT(a.elapsed, 2s);

  // 80 event streams, 16 over the limit of 64: every one answered at once, 64 streaming, the
  // others 503.
  std::vector<Fd> streams = OpenStreams(80);
  ASSERT_EQ(streams.size(), 80u);
  const auto heads_deadline = Clock::now() + 5s;
  std::vector<int> statuses;
  for (auto& fd : streams) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(heads_deadline - Clock::now());
    statuses.push_back(StatusOf(ReadHead(fd.get(), std::max(left, 1ms))));
  }
  trickle();
  std::this_thread::sleep_for(1s);  // a stream refused after its head would be closed by now
  int ok = 0, busy = 0, open = 0;
  std::vector<int> others;
  for (size_t k = 0; k < streams.size(); ++k) {
    if (statuses[k] == 200) {
      ++ok;
      if (!PeerClosed(streams[k].get())) ++open;
    } else if (statuses[k] == 503) {
      ++busy;
    } else {
      others.push_back(statuses[k]);
    }
  }
  EXPECT_THAT(others, IsEmpty()) << "streams without an answer within 5 s (-1) or with another status";
  EXPECT_EQ(busy, 16) << "the 16 streams over the limit must get 503; got " << ok << " times 200, of which " << open
                      << " still streaming";
  EXPECT_EQ(open, 64);
  EXPECT_EQ(ok, 64);

  // A normal request still works with 64 streams and 100 slow clients open.
  a = Exchange(port_, Http("GET", "/state"));
  EXPECT_EQ(a.status, 200) << a.failure;
  EXPECT_LT(a.elapsed, 2s);

  // The server drops the slow clients at its deadline (10 s), whatever they trickle.
  EXPECT_TRUE(WaitUntil(
      [&] {
        trickle();
        bool all = true;
        for (auto& fd : slow) {
          if (fd.valid() && PeerClosed(fd.get())) fd.Close();
          all = all && !fd.valid();
        }
        return all;
      },
      30s))
      << std::count_if(slow.begin(), slow.end(), [](const Fd& fd) { return fd.valid(); })
      << " slow clients still connected";

  // Everything closed: berthd's fds come back, and so do its stream slots.
  streams.clear();
  slow.clear();
  EXPECT_TRUE(WaitUntil([&] { return OpenFds() <= baseline + 5; }, 20s))
      << "berthd's fds: " << OpenFds() << ", before: " << baseline;
  streams = OpenStreams(64);
  ASSERT_EQ(streams.size(), 64u);
  int again = 0;
  for (auto& fd : streams) again += StatusOf(ReadHead(fd.get(), 5s)) == 200 ? 1 : 0;
  std::this_thread::sleep_for(1s);
  int still_open = 0;
  for (auto& fd : streams) still_open += PeerClosed(fd.get()) ? 0 : 1;
  EXPECT_EQ(again, 64) << "stream slots not given back";
  EXPECT_EQ(still_open, 64) << "stream slots not given back";
  streams.clear();
  EXPECT_TRUE(WaitUntil([&] { return OpenFds() <= baseline + 5; }, 20s))
      << "berthd's fds: " << OpenFds() << ", before: " << baseline;
  EXPECT_EQ(Exchange(port_, Http("GET", "/state")).status, 200);
  EXPECT_TRUE(DaemonAlive()) << LogTail();
}

TEST_F(RestHostileE2E, ClientHangingUpMidRequestIsHarmless) {
  const std::vector<std::string> namespaces_before = Namespaces();
  const std::string ns = "hostile-ns-" + pid_;
  ASSERT_EQ(Exchange(port_, Http("GET", "/state")).status, 200);
  const int baseline = StableFdCount();
  ASSERT_GT(baseline, 0);

  // 200 clients send the head of a 100 000-byte start and 10 bytes of it, then hang up: half
  // with a FIN, half with an RST.
  {
    std::vector<Fd> conns;
    for (int k = 0; k < 200; ++k) {
      Fd fd(ConnectLoopback(port_));
      ASSERT_TRUE(fd.valid()) << std::strerror(errno);
      std::string target = "/containers/hostile-hangup-" + pid_ + "-" + std::to_string(k) +
                           (k % 2 == 1 ? "?namespace=" + ns : std::string());
      ASSERT_TRUE(SendAll(fd.get(), "POST " + target +
                                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 100000\r\n\r\n{\"bundlePa"));
      conns.push_back(std::move(fd));
    }
    // The server holds them all, mid-body.
    EXPECT_TRUE(WaitUntil([&] { return OpenFds() >= baseline + 150; }, 10s))
        << OpenFds() << " fds, " << baseline << " before";
    for (size_t k = 0; k < conns.size(); ++k) {
      if (k % 2 == 0) {
        conns[k].Close();
      } else {
        conns[k].Reset();
      }
    }
  }
  // 100 more send a whole request and hang up (RST) before reading the answer.
  for (int k = 0; k < 100; ++k) {
    Fd fd(ConnectLoopback(port_));
    ASSERT_TRUE(fd.valid()) << std::strerror(errno);
    std::string request = k % 2 == 0 ? Http("GET", "/state")
                                     : Http("POST", "/containers/hostile-hangup-" + pid_ + "-x" + std::to_string(k),
                                            R"({"bundlePath": "/etc"})");
    ASSERT_TRUE(SendAll(fd.get(), request));
    fd.Reset();
  }

  auto a = Exchange(port_, Http("GET", "/state"));
  EXPECT_EQ(a.status, 200) << a.failure;
  EXPECT_LT(a.elapsed, 2s);
  ASSERT_TRUE(DaemonAlive()) << LogTail();
  EXPECT_TRUE(WaitUntil([&] { return OpenFds() <= baseline + 5; }, 20s))
      << "berthd's fds: " << OpenFds() << ", before: " << baseline;
  for (const std::string& n : {std::string("default"), ns}) {
    EXPECT_EQ(daemon_->Ctr({"-n", n, "containers", "ls", "-q"}).out, "") << n;
    EXPECT_EQ(StateContainers(n), json::array()) << n;
  }
  EXPECT_EQ(Namespaces(), namespaces_before);
  EXPECT_THAT(DaemonEntriesMentioning("hostile"), IsEmpty());
}

}  // namespace
}  // namespace berth::e2e
