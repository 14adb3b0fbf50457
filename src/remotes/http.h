// One HTTP exchange over libcurl, as the registry client needs it: bodies streamed in both
// directions, redirects followed by hand (so an Authorization header never reaches another
// host), the answer's headers by lower-case name, and transient failures retried with backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "remotes/types.h"

namespace berth::remotes {

struct TransportOptions {
  bool skip_verify = false;
  std::string ca_bundle;  // PEM trusted for https ("" for libcurl's default store)
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds low_speed_time{60};
  std::string user_agent;
  int retries = 3;
  std::chrono::milliseconds backoff{200};
};

struct HttpResponse {
  long status = 0;
  std::multimap<std::string, std::string> headers;  // of the last answer; names lower-case
  std::string body;      // the body when it was not streamed to a sink (capped)
  std::string url;       // after redirects
  int64_t sink_bytes = 0;  // bytes handed to the request's sink
  bool connect_failed = false;  // no connection was made: the request never left

  // The first value of header `name` (lower-case), "" if absent.
  std::string Header(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // sent with POST/PUT/PATCH unless `source` is set
  // Streams the body from `source` instead: exactly `source_size` bytes.
  const BlobSource* source = nullptr;
  int64_t source_size = 0;
  bool follow_redirects = false;
  // A POST or PATCH the server may get twice without harm (a token request, opening an upload
  // session): retried like GET, HEAD, PUT and DELETE. Others are sent once.
  bool resendable = false;
  // Called once per answer with its status and headers before its first body byte is taken
  // (only for 2xx answers when `sink` is set); an error aborts the transfer with it.
  std::function<Status(const HttpResponse&)> on_headers;
  // Takes the body of a 2xx answer; other answers' bodies go to HttpResponse::body.
  const BlobSink* sink = nullptr;
  size_t max_body = 4 << 20;  // larger in-memory bodies abort the transfer
};

enum class Failure {
  kNone,
  kTransport,  // connection, TLS, timeout, a body cut short: worth retrying
  kSink,       // the sink, source or on_headers said stop: not retried
  kTooLarge,   // the in-memory body passed max_body
};

// Thread-safe: Perform and PerformWithRetry may be called from many threads at once (const over
// fixed options; each thread uses its own curl handle, curl_global_init runs once).
class Transport {
 public:
  explicit Transport(TransportOptions options);

  // One exchange (redirects included). On failure the Status says why and `failure` which
  // kind it was; `resp` keeps what arrived.
  Status Perform(const HttpRequest& req, HttpResponse* resp, Failure* failure = nullptr) const;

  // Perform, retried with RetryDelay after transport failures, 429 and 5xx answers, as long
  // as nothing was streamed yet (no sink bytes and no source). A request that is not
  // idempotent (POST, PATCH without `resendable`) is retried only when the server cannot have
  // acted on it: no connection was made, or 429. Returns the last answer.
  Status PerformWithRetry(const HttpRequest& req, HttpResponse* resp, Failure* failure = nullptr) const;

  const TransportOptions& options() const { return options_; }

 private:
  TransportOptions options_;
};

// scheme://host[:port] of an absolute URL, lower-case, without user info and without the
// scheme's default port ("" if it has none): what decides where credentials may go.
std::string UrlOrigin(std::string_view url);
// `url` fit for a log line or an error message: without user info, query and fragment (upload
// locations carry their state and storage redirects their signatures there).
std::string RedactUrl(std::string_view url);
// `ref` (absolute, or relative like a Location header) resolved against `base`.
Result<std::string> ResolveUrl(const std::string& base, const std::string& ref);
// What a registry's error answer says: the first of {"errors":[{"code","message"}]}, or the
// start of the body.
std::string RegistryErrorText(const std::string& body);
// Percent-encoding for a query value.
std::string QueryEscape(std::string_view value);

}  // namespace berth::remotes
