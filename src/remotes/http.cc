#include "remotes/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "remotes/backoff.h"

namespace berth::remotes {
namespace {

constexpr int kMaxRedirects = 10;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One easy handle per thread, reset before each use: its connection cache keeps connections to
// a registry alive between the calls a thread makes.
struct EasyHandle {
  CURL* curl = nullptr;
  bool busy = false;
  EasyHandle() {
    GlobalInit();
    curl = curl_easy_init();
  }
  ~EasyHandle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  EasyHandle(const EasyHandle&) = delete;
  EasyHandle& operator=(const EasyHandle&) = delete;
};

// The thread's handle for one exchange; a fresh one when a sink or source calls the registry
// again from inside a transfer (the thread's handle is in use then).
class HandleLease {
 public:
  HandleLease() {
    thread_local EasyHandle handle;
    if (!handle.busy && handle.curl != nullptr) {
      shared_ = &handle;
      handle.busy = true;
      curl_easy_reset(handle.curl);
      curl_ = handle.curl;
    } else {
      own_ = std::make_unique<EasyHandle>();
      curl_ = own_->curl;
    }
  }
  ~HandleLease() {
    if (shared_ != nullptr) shared_->busy = false;
  }
  HandleLease(const HandleLease&) = delete;
  HandleLease& operator=(const HandleLease&) = delete;
  CURL* get() const { return curl_; }

 private:
  EasyHandle* shared_ = nullptr;
  std::unique_ptr<EasyHandle> own_;
  CURL* curl_ = nullptr;
};

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsAuthorization(std::string_view header) {
  return header.size() >= 14 && Lower(header.substr(0, 14)) == "authorization:";
}

// State shared with curl's callbacks during one exchange.
struct Exchange {
  const HttpRequest* req = nullptr;
  HttpResponse* resp = nullptr;
  bool headers_reported = false;
  int64_t sent = 0;
  Status error;  // set by a callback that stops the transfer
  Failure failure = Failure::kNone;

  bool Streaming() const { return req->sink != nullptr && resp->status >= 200 && resp->status < 300; }
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new answer (after a 100 Continue or a redirect)
    ex->resp->headers.clear();
    ex->resp->body.clear();
    ex->headers_reported = false;
    size_t sp = line.find(' ');
    ex->resp->status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    ex->resp->headers.emplace(Lower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (ex->Streaming()) {
    if (!ex->headers_reported) {
      ex->headers_reported = true;
      if (ex->req->on_headers) {
        if (Status st = ex->req->on_headers(*ex->resp); !st.ok()) {
          ex->error = st;
          ex->failure = Failure::kSink;
          return 0;
        }
      }
    }
    if (Status st = (*ex->req->sink)(std::string_view(data, len)); !st.ok()) {
      ex->error = st;
      ex->failure = Failure::kSink;
      return 0;
    }
    ex->resp->sink_bytes += static_cast<int64_t>(len);
    return len;
  }
  if (ex->resp->body.size() + len > ex->req->max_body) {
    ex->failure = Failure::kTooLarge;
    ex->error = FailedPrecondition("{}: answer larger than {} bytes", RedactUrl(ex->req->url), ex->req->max_body);
    return 0;
  }
  ex->resp->body.append(data, len);
  return len;
}

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  int64_t left = ex->req->source_size - ex->sent;
  size_t want = std::min<size_t>(size * n, static_cast<size_t>(std::max<int64_t>(left, 0)));
  if (want == 0) return 0;
  auto got = (*ex->req->source)(std::span<char>(buf, want));
  if (!got.ok()) {
    ex->error = got.status();
    ex->failure = Failure::kSink;
    return CURL_READFUNC_ABORT;
  }
  if (*got == 0 || *got > want) {
    ex->error = FailedPrecondition("{}: blob source ended after {} of {} bytes", RedactUrl(ex->req->url), ex->sent,
                                   ex->req->source_size);
    ex->failure = Failure::kSink;
    return CURL_READFUNC_ABORT;
  }
  ex->sent += static_cast<int64_t>(*got);
  return *got;
}

bool Idempotent(const HttpRequest& req) {
  return req.method == "GET" || req.method == "HEAD" || req.method == "PUT" || req.method == "DELETE" ||
         req.resendable;
}

// The request never reached the server: safe to send again whatever its method.
bool ConnectFailed(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY;
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Transport::Transport(TransportOptions options) : options_(std::move(options)) { GlobalInit(); }

Status Transport::Perform(const HttpRequest& original, HttpResponse* resp, Failure* failure) const {
  Failure ignored;
  if (failure == nullptr) failure = &ignored;
  *failure = Failure::kNone;
  HttpRequest req = original;
  const std::string origin = UrlOrigin(req.url);
  for (int hop = 0;; ++hop) {
    HandleLease lease;
    CURL* curl = lease.get();
    if (curl == nullptr) return Internal("curl_easy_init failed");
    *resp = HttpResponse{};
    Exchange ex{.req = &req, .resp = resp};
    char errbuf[CURL_ERROR_SIZE] = {};

    Slist headers;
    for (const auto& h : req.headers) {
      curl_slist* next = curl_slist_append(headers.get(), h.c_str());
      if (next == nullptr) return Internal("curl_slist_append failed");
      (void)headers.release();
      headers.reset(next);
    }
    // No "Expect: 100-continue" round trip for uploads.
    if (curl_slist* next = curl_slist_append(headers.get(), "Expect:"); next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }

    curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count() * 1000));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (options_.skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!options_.ca_bundle.empty()) {
      curl_blob blob{.data = const_cast<char*>(options_.ca_bundle.data()),
                     .len = options_.ca_bundle.size(),
                     .flags = CURL_BLOB_NOCOPY};
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);

    if (req.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (req.source != nullptr) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
        curl_easy_setopt(curl, CURLOPT_READDATA, &ex);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.source_size));
      } else {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.empty() ? "" : req.body.data());
      }
    }

    CURLcode rc = curl_easy_perform(curl);
    char* effective = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
    resp->url = effective != nullptr ? effective : req.url;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0) resp->status = status;
    // Never the headers: they may carry credentials.
    log::Debug("registry request", {{"method", req.method}, {"url", RedactUrl(req.url)}, {"status", resp->status}});

    if (rc != CURLE_OK) {
      if (ex.failure != Failure::kNone) {
        *failure = ex.failure;
        return ex.error;
      }
      *failure = Failure::kTransport;
      resp->connect_failed = ConnectFailed(rc);
      return Unavailable("{} {}: {}", req.method, RedactUrl(req.url),
                         errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    }
    // A 2xx with an empty body still reports its headers.
    if (ex.Streaming() && !ex.headers_reported && req.on_headers) {
      if (Status st = req.on_headers(*resp); !st.ok()) {
        *failure = Failure::kSink;
        return st;
      }
    }
    if (!req.follow_redirects || !IsRedirect(resp->status)) return Status::Ok();

    char* location = nullptr;
    curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
    if (location == nullptr || hop + 1 >= kMaxRedirects) return Status::Ok();  // the caller sees the 3xx
    req.url = location;
    if (resp->status == 303 && req.method != "HEAD") req.method = "GET";
    // Storage behind a redirect gets no registry credentials.
    if (UrlOrigin(req.url) != origin) {
      std::erase_if(req.headers, [](const std::string& h) { return IsAuthorization(h); });
    }
  }
}

Status Transport::PerformWithRetry(const HttpRequest& req, HttpResponse* resp, Failure* failure) const {
  Failure ignored;
  if (failure == nullptr) failure = &ignored;
  for (int attempt = 0;; ++attempt) {
    Status st = Perform(req, resp, failure);
    bool replayable = req.source == nullptr && resp->sink_bytes == 0;
    bool transport = !st.ok() && *failure == Failure::kTransport;
    bool transient = Idempotent(req) ? transport || (st.ok() && (resp->status == 429 || resp->status >= 500))
                                     : (transport && resp->connect_failed) || (st.ok() && resp->status == 429);
    if (!transient || !replayable || attempt >= options_.retries) return st;
    auto delay = RetryDelay(attempt, options_.backoff, st.ok() ? resp->Header("retry-after") : "");
    log::Debug("registry request retried",
               {{"method", req.method},
                {"url", RedactUrl(req.url)},
                {"status", resp->status},
                {"delay_ms", delay.count()}});
    std::this_thread::sleep_for(delay);
  }
}

std::string UrlOrigin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string s = Lower(url.substr(0, scheme));
  std::string host = Lower(authority);
  if ((s == "https" && host.ends_with(":443")) || (s == "http" && host.ends_with(":80"))) {
    host.erase(host.rfind(':'));
  }
  return s + "://" + host;
}

std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t end = std::min(url.find('/', start), url.size());
  size_t at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

Result<std::string> ResolveUrl(const std::string& base, const std::string& ref) {
  GlobalInit();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u) return Internal("curl_url failed");
  if (curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK) {
    return Unknown("location \"{}\" (from {}): not a URL", RedactUrl(ref), RedactUrl(base));
  }
  char* out = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || out == nullptr) {
    return Unknown("location \"{}\" (from {}): not a URL", RedactUrl(ref), RedactUrl(base));
  }
  std::string s(out);
  curl_free(out);
  return s;
}

std::string RegistryErrorText(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("errors"); e != j.end() && e->is_array() && !e->empty() && (*e)[0].is_object()) {
      const auto& first = (*e)[0];
      std::string code = first.value("code", "");
      std::string message = first.value("message", "");
      return code.empty() ? message : message.empty() ? code : code + ": " + message;
    }
    for (const char* key : {"error", "details", "message"}) {
      if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
    }
  }
  std::string text = body.substr(0, 200);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string QueryEscape(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace berth::remotes
