#include "remotes/registry.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/logging.h"
#include "images/rootfs.h"
#include "images/walk.h"
#include "remotes/auth.h"
#include "remotes/backoff.h"
#include "remotes/http.h"
#include "remotes/scheme.h"

namespace berth::remotes {
namespace {

constexpr int64_t kMaxManifestSize = 4 << 20;
constexpr std::string_view kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

std::string AcceptHeader() {
  std::string h = "Accept: ";
  for (size_t i = 0; i < std::size(kManifestAcceptTypes); ++i) {
    if (i > 0) h += ", ";
    h += kManifestAcceptTypes[i];
  }
  return h;
}

// The digest of `data` in the algorithm of the digest `algorithm_of`: sha512, else sha256.
std::string DigestLike(std::string_view algorithm_of, std::string_view data) {
  return std::move(DigestOf(algorithm_of.starts_with("sha512:") ? "sha512" : "sha256", data)).value().String();
}

std::string BareMediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

// The media type a manifest body declares (or implies: a "manifests" list is an index).
std::string MediaTypeOfBody(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  if (auto it = j.find("mediaType"); it != j.end() && it->is_string()) return it->get<std::string>();
  if (j.value("schemaVersion", 0) == 1) return "application/vnd.docker.distribution.manifest.v1+prettyjws";
  return std::string(j.contains("manifests") ? images::kOciIndex : images::kOciManifest);
}

// What a resolve may name: a manifest or an index.
bool IsManifestType(std::string_view t) { return images::IsManifestType(t) || images::IsIndexType(t); }

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// Start and total of "bytes <start>-<end>/<total>" (total nullopt when "*").
struct ContentRange {
  int64_t start = 0;
  std::optional<int64_t> total;
};
std::optional<ContentRange> ParseContentRange(std::string_view v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  v.remove_prefix(6);
  auto start = ParseInt(v.substr(0, v.find('-')));
  if (!start) return std::nullopt;
  size_t slash = v.find('/');
  return ContentRange{*start, slash == std::string_view::npos ? std::nullopt : ParseInt(v.substr(slash + 1))};
}

std::string WithQuery(const std::string& url, std::string_view query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(query);
}

Result<std::string> ReadCaBundle(const std::string& ca_file) {
  std::string bundle;
  for (std::string_view path : {kSystemCaBundle, std::string_view(ca_file)}) {
    std::ifstream in{std::string(path)};
    if (!in) {
      if (path == ca_file) return InvalidArgument("CA file {}: cannot be read", ca_file);
      continue;  // no system bundle: the given file alone
    }
    std::stringstream text;
    text << in.rdbuf();
    bundle += text.str();
    bundle += "\n";
  }
  return bundle;
}

}  // namespace

struct Registry::Impl {
  std::string host;      // as given
  std::string base_url;  // scheme://api-host
  std::string origin;    // UrlOrigin(base_url): the only origin that gets credentials
  RegistryOptions options;
  Transport transport;
  Authorizer auth;

  Impl(std::string h, RegistryOptions o, TransportOptions t)
      : host(std::move(h)),
        base_url(std::string(RegistryScheme(host, o)) + "://" + RegistryHost(host)),
        origin(UrlOrigin(base_url)),
        options(std::move(o)),
        transport(std::move(t)),
        auth(host, options.credentials, &transport) {}

  std::string Url(const std::string& path, std::string_view kind, const std::string& object) const {
    return base_url + "/v2/" + path + "/" + std::string(kind) + "/" + object;
  }

  // One request with authentication: the cached Authorization, and after a 401 one more try
  // with what the challenge asked for. Transient failures retried (PerformWithRetry).
  // Credentials go to the registry's own origin only: an upload Location on another host
  // (storage behind the registry) gets the request bare, as containerd authorizes only the
  // host it authenticated with.
  Status Send(const HttpRequest& req, const Scopes& scopes, HttpResponse* resp, Failure* failure = nullptr) {
    if (UrlOrigin(req.url) != origin) return transport.PerformWithRetry(req, resp, failure);
    for (bool challenged = false;; challenged = true) {
      BERTH_ASSIGN_OR_RETURN(std::string authorization, auth.Header(scopes));
      HttpRequest r = req;
      if (!authorization.empty()) r.headers.push_back("Authorization: " + authorization);
      BERTH_RETURN_IF_ERROR(transport.PerformWithRetry(r, resp, failure));
      // A streamed body cannot be sent twice.
      if (resp->status != 401 || challenged || req.source != nullptr) return Status::Ok();
      BERTH_RETURN_IF_ERROR(auth.OnUnauthorized(*resp, authorization));
    }
  }

  // The error for an unexpected answer to a request about `what`.
  Status HttpError(const HttpResponse& resp, const std::string& what) const {
    switch (resp.status) {
      case 401:
      case 403:
        return FailedPrecondition("{} on registry {}: unauthorized", what, host);
      case 404:
        return NotFound("{} on registry {}", what, host);
      default: {
        std::string text = RegistryErrorText(resp.body);
        return Unknown("{} on registry {}: HTTP {}{}{}", what, host, resp.status, text.empty() ? "" : ": ", text);
      }
    }
  }

  Result<std::string> GetManifest(const std::string& path, const std::string& object, const std::string& what,
                                  std::string* content_type, std::string* header_digest) {
    HttpRequest req{.method = "GET", .url = Url(path, "manifests", object), .headers = {AcceptHeader()}};
    req.follow_redirects = true;
    req.max_body = kMaxManifestSize;
    HttpResponse resp;
    Failure failure = Failure::kNone;
    Status st = Send(req, {PullScope(path)}, &resp, &failure);
    if (!st.ok()) {
      if (failure == Failure::kTooLarge) return FailedPrecondition("{}: manifest larger than 4 MiB", what);
      return st.Wrap(what);
    }
    if (resp.status != 200) return HttpError(resp, what);
    if (content_type != nullptr) *content_type = BareMediaType(resp.Header("content-type"));
    if (header_digest != nullptr) *header_digest = resp.Header("docker-content-digest");
    return std::move(resp.body);
  }

  // Where an upload continues: the Location of an upload answer, resolved against its URL.
  Result<std::string> UploadLocation(const HttpResponse& resp, const std::string& what) const {
    std::string location = resp.Header("location");
    if (location.empty()) return Unknown("{} on registry {}: upload answer without Location", what, host);
    return ResolveUrl(resp.url, location);
  }

  // Best effort: a registry that did not mount keeps an upload session open until it expires.
  void CancelUpload(const std::string& url, const Scopes& scopes) {
    HttpRequest req{.method = "DELETE", .url = url};
    HttpResponse resp;
    Send(req, scopes, &resp).IgnoreError();
  }

  Status FinishUpload(const HttpResponse& resp, const Descriptor& desc, const std::string& what) const {
    if (resp.status != 201 && resp.status != 204) return HttpError(resp, what);
    if (std::string got = resp.Header("docker-content-digest"); !got.empty() && got != desc.digest) {
      return FailedPrecondition("{} on registry {}: registry stored digest {}", what, host, got);
    }
    return Status::Ok();
  }
};

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

const std::string& Registry::host() const { return impl_->host; }

Result<std::unique_ptr<Registry>> Registry::Open(std::string host, RegistryOptions options) {
  if (host.empty()) return InvalidArgument("registry host: empty");
  TransportOptions t{.skip_verify = options.skip_verify,
                     .ca_bundle = "",
                     .connect_timeout = options.connect_timeout,
                     .low_speed_time = options.low_speed_time,
                     .user_agent = options.user_agent,
                     .retries = std::max(options.retries, 0),
                     .backoff = options.backoff};
  // The extra CA is trusted beside the system's, not instead of them.
  if (!options.ca_file.empty() && RegistryScheme(host, options) == "https") {
    BERTH_ASSIGN_OR_RETURN(t.ca_bundle, ReadCaBundle(options.ca_file));
  }
  return std::unique_ptr<Registry>(
      new Registry(std::make_unique<Impl>(std::move(host), std::move(options), std::move(t))));
}

Result<Descriptor> Registry::Resolve(const Reference& ref) {
  const std::string what = ref.String();
  const std::string object = ref.Object();
  if (object.empty()) return InvalidArgument("reference \"{}\": no tag or digest", what);

  HttpRequest head{.method = "HEAD", .url = impl_->Url(ref.path, "manifests", object), .headers = {AcceptHeader()}};
  head.follow_redirects = true;
  HttpResponse resp;
  BERTH_RETURN_IF_ERROR(impl_->Send(head, {PullScope(ref.path)}, &resp).Wrap(what));

  Descriptor desc;
  if (resp.status == 200) {
    desc.media_type = BareMediaType(resp.Header("content-type"));
    desc.digest = resp.Header("docker-content-digest");
    if (auto size = ParseInt(resp.Header("content-length"))) desc.size = *size;
    if (desc.digest.empty() && !ref.digest.empty()) desc.digest = ref.digest;
    if (!desc.digest.empty() && desc.size > 0 && IsManifestType(desc.media_type)) {
      if (!ref.digest.empty() && desc.digest != ref.digest) {
        return FailedPrecondition("{} on registry {}: registry answered digest {}", what, impl_->host, desc.digest);
      }
      return desc;
    }
  } else if (resp.status != 405 && resp.status != 400) {
    // 405/400: a registry without HEAD on manifests; anything else is its answer.
    return impl_->HttpError(resp, what);
  }

  // HEAD said too little: GET the manifest and describe the bytes themselves.
  std::string content_type, header_digest;
  BERTH_ASSIGN_OR_RETURN(std::string body, impl_->GetManifest(ref.path, object, what, &content_type, &header_digest));
  desc.size = static_cast<int64_t>(body.size());
  desc.digest = DigestLike(ref.digest.empty() ? "sha256:" : ref.digest, body);
  if (!ref.digest.empty() && desc.digest != ref.digest) {
    return FailedPrecondition("{} on registry {}: manifest has digest {}", what, impl_->host, desc.digest);
  }
  if (!header_digest.empty() && header_digest.starts_with("sha256:") && desc.digest.starts_with("sha256:") &&
      header_digest != desc.digest) {
    return FailedPrecondition("{} on registry {}: manifest has digest {}, registry says {}", what, impl_->host,
                              desc.digest, header_digest);
  }
  desc.media_type = IsManifestType(content_type) ? content_type : MediaTypeOfBody(body);
  if (desc.media_type.empty()) desc.media_type = content_type;
  return desc;
}

Result<std::string> Registry::FetchManifest(const std::string& repository_path, const Descriptor& desc,
                                            std::string* media_type_out) {
  const std::string what = fmt::format("manifest {} in {}", desc.digest, repository_path);
  if (desc.size > kMaxManifestSize) return InvalidArgument("{}: size {} is over 4 MiB", what, desc.size);
  std::string content_type;
  BERTH_ASSIGN_OR_RETURN(std::string body,
                         impl_->GetManifest(repository_path, desc.digest, what, &content_type, nullptr));
  if (static_cast<int64_t>(body.size()) != desc.size) {
    return FailedPrecondition("{} on registry {}: got {} bytes, want {}", what, impl_->host, body.size(), desc.size);
  }
  if (std::string got = DigestLike(desc.digest, body); got != desc.digest) {
    return FailedPrecondition("{} on registry {}: content has digest {}", what, impl_->host, got);
  }
  if (media_type_out != nullptr) {
    *media_type_out = IsManifestType(content_type) ? content_type : MediaTypeOfBody(body);
    if (media_type_out->empty()) *media_type_out = content_type;
  }
  return body;
}

Status Registry::FetchBlob(const std::string& repository_path, const Descriptor& desc, int64_t offset,
                           const BlobSink& sink) {
  const std::string what = fmt::format("blob {} in {}", desc.digest, repository_path);
  if (offset < 0 || offset > desc.size) {
    return InvalidArgument("{}: offset {} outside size {}", what, offset, desc.size);
  }
  int64_t pos = offset;  // next byte the sink wants
  int failures = 0;
  Status last;
  while (true) {
    if (pos == desc.size && (desc.size > 0 || pos > offset)) return Status::Ok();
    HttpRequest req{.method = "GET", .url = impl_->Url(repository_path, "blobs", desc.digest)};
    req.follow_redirects = true;
    if (pos > 0) req.headers.push_back(fmt::format("Range: bytes={}-", pos));
    int64_t skip = 0;  // bytes of this answer the sink already has
    req.on_headers = [&](const HttpResponse& r) -> Status {
      // The sizes the answer declares must be the descriptor's: no retry makes them right.
      std::optional<int64_t> total;
      if (r.status == 206) {
        auto range = ParseContentRange(r.Header("content-range"));
        if (range && range->start != pos) {
          return Unknown("{} on registry {}: asked for bytes from {}, got from {}", what, impl_->host, pos,
                         range->start);
        }
        if (range) total = range->total;
        skip = 0;
      } else {
        total = ParseInt(r.Header("content-length"));
        skip = pos;  // Range ignored: the whole blob again
      }
      if (total && r.Header("content-encoding").empty() && *total != desc.size) {
        return FailedPrecondition("{} on registry {}: size is {}, want {}", what, impl_->host, *total, desc.size);
      }
      return Status::Ok();
    };
    BlobSink counting = [&](std::string_view data) -> Status {
      if (skip > 0) {
        size_t drop = static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(data.size())));
        data.remove_prefix(drop);
        skip -= static_cast<int64_t>(drop);
        if (data.empty()) return Status::Ok();
      }
      if (pos + static_cast<int64_t>(data.size()) > desc.size) {
        return FailedPrecondition("{} on registry {}: more than {} bytes", what, impl_->host, desc.size);
      }
      BERTH_RETURN_IF_ERROR(sink(data));
      pos += static_cast<int64_t>(data.size());
      return Status::Ok();
    };
    req.sink = &counting;

    const int64_t before = pos;
    HttpResponse resp;
    Failure failure = Failure::kNone;
    Status st = impl_->Send(req, {PullScope(repository_path)}, &resp, &failure);
    if (st.ok() && resp.status != 200 && resp.status != 206) {
      if (resp.status == 416) {  // nothing from `pos` on: the blob is shorter than desc.size
        return FailedPrecondition("{} on registry {}: blob ends before byte {} of {}", what, impl_->host, pos,
                                  desc.size);
      }
      return impl_->HttpError(resp, what);
    }
    if (!st.ok() && failure != Failure::kTransport) return st.Wrap(what);
    if (st.ok() && pos == desc.size) return Status::Ok();
    // Cut short (a transport error, or a clean end before the size): resume from `pos`.
    if (pos > before) failures = 0;  // progress: the connection is worth another try
    if (st.ok()) {
      last = FailedPrecondition("{} on registry {}: got {} bytes, want {}", what, impl_->host, pos, desc.size);
    } else {
      last = st.Wrap(what);
    }
    if (failures >= impl_->options.retries) return last;
    auto delay = RetryDelay(failures, impl_->options.backoff);
    log::Debug("registry blob fetch resumed", {{"blob", desc.digest}, {"offset", pos}, {"delay_ms", delay.count()}});
    ++failures;
    std::this_thread::sleep_for(delay);
  }
}

Result<bool> Registry::BlobExists(const std::string& repository_path, const std::string& digest) {
  const std::string what = fmt::format("blob {} in {}", digest, repository_path);
  HttpRequest req{.method = "HEAD", .url = impl_->Url(repository_path, "blobs", digest)};
  req.follow_redirects = true;
  HttpResponse resp;
  BERTH_RETURN_IF_ERROR(impl_->Send(req, {PullScope(repository_path)}, &resp).Wrap(what));
  if (resp.status == 200) return true;
  if (resp.status == 404) return false;
  return impl_->HttpError(resp, what);
}

Result<bool> Registry::MountBlob(const std::string& repository_path, const std::string& from_path,
                                 const std::string& digest) {
  const std::string what = fmt::format("mount of blob {} from {} into {}", digest, from_path, repository_path);
  const Scopes scopes = {PushScope(repository_path), PullScope(from_path)};
  HttpRequest req{.method = "POST",
                  .url = impl_->base_url + "/v2/" + repository_path + "/blobs/uploads/?mount=" + QueryEscape(digest) +
                         "&from=" + QueryEscape(from_path)};
  req.resendable = true;  // a mount done twice is one mount
  HttpResponse resp;
  BERTH_RETURN_IF_ERROR(impl_->Send(req, scopes, &resp).Wrap(what));
  if (resp.status == 201) return true;
  if (resp.status == 202) {
    // An upload session was opened instead: not needed, PushBlob opens its own.
    if (auto loc = impl_->UploadLocation(resp, what); loc.ok()) impl_->CancelUpload(*loc, scopes);
    return false;
  }
  return impl_->HttpError(resp, what);
}

Status Registry::PushBlob(const std::string& repository_path, const Descriptor& desc, const BlobSource& source,
                          int64_t chunk_size) {
  const std::string what = fmt::format("upload of blob {} to {}", desc.digest, repository_path);
  if (chunk_size <= 0) return InvalidArgument("{}: chunk size {}", what, chunk_size);
  const Scopes scopes = {PushScope(repository_path)};

  HttpRequest start{.method = "POST", .url = impl_->base_url + "/v2/" + repository_path + "/blobs/uploads/"};
  start.resendable = true;  // at worst a second session, left to expire
  HttpResponse resp;
  BERTH_RETURN_IF_ERROR(impl_->Send(start, scopes, &resp).Wrap(what));
  if (resp.status == 201) return impl_->FinishUpload(resp, desc, what);  // the registry had it
  if (resp.status != 202) return impl_->HttpError(resp, what);
  BERTH_ASSIGN_OR_RETURN(std::string location, impl_->UploadLocation(resp, what));
  const std::string digest_query = "digest=" + QueryEscape(desc.digest);

  if (desc.size <= chunk_size) {
    // Monolithic: the body streams from the source in one PUT.
    HttpRequest put{.method = "PUT",
                    .url = WithQuery(location, digest_query),
                    .headers = {"Content-Type: application/octet-stream"},
                    .source = &source,
                    .source_size = desc.size};
    BERTH_RETURN_IF_ERROR(impl_->Send(put, scopes, &resp).Wrap(what));
    return impl_->FinishUpload(resp, desc, what);
  }

  // Chunked: PATCH each chunk with its Content-Range; every answer names the next Location.
  // A PATCH is sent once (Transport does not resend it): after a failure the registry may
  // have taken some of the chunk, and the source cannot be rewound, so the upload fails.
  std::vector<char> buf(static_cast<size_t>(chunk_size));
  int64_t sent = 0;
  while (sent < desc.size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(chunk_size, desc.size - sent));
    size_t have = 0;
    while (have < want) {
      BERTH_ASSIGN_OR_RETURN(size_t n, source(std::span<char>(buf.data() + have, want - have)));
      if (n == 0) {
        return FailedPrecondition("{}: blob source ended after {} of {} bytes", what, sent + static_cast<int64_t>(have),
                                  desc.size);
      }
      have += n;
    }
    HttpRequest patch{.method = "PATCH",
                      .url = location,
                      .headers = {"Content-Type: application/octet-stream",
                                  fmt::format("Content-Range: {}-{}", sent, sent + static_cast<int64_t>(have) - 1)},
                      .body = std::string_view(buf.data(), have)};
    BERTH_RETURN_IF_ERROR(impl_->Send(patch, scopes, &resp).Wrap(what));
    if (resp.status != 202 && resp.status != 204) return impl_->HttpError(resp, what);
    BERTH_ASSIGN_OR_RETURN(location, impl_->UploadLocation(resp, what));
    sent += static_cast<int64_t>(have);
  }
  // Nothing more may come from the source: a longer blob is a different blob.
  char extra = 0;
  BERTH_ASSIGN_OR_RETURN(size_t more, source(std::span<char>(&extra, 1)));
  if (more != 0) return FailedPrecondition("{}: blob source has more than {} bytes", what, desc.size);
  HttpRequest put{.method = "PUT", .url = WithQuery(location, digest_query)};
  BERTH_RETURN_IF_ERROR(impl_->Send(put, scopes, &resp).Wrap(what));
  return impl_->FinishUpload(resp, desc, what);
}

Status Registry::PushManifest(const std::string& repository_path, const std::string& tag_or_digest,
                              const std::string& media_type, std::string_view manifest) {
  const std::string what = fmt::format("manifest {} in {}", tag_or_digest, repository_path);
  if (manifest.size() > static_cast<size_t>(kMaxManifestSize)) {
    return InvalidArgument("{}: size {} is over 4 MiB", what, manifest.size());
  }
  const bool by_digest = tag_or_digest.starts_with("sha256:") || tag_or_digest.starts_with("sha512:");
  const std::string digest = DigestLike(by_digest ? tag_or_digest : "sha256:", manifest);
  if (by_digest && digest != tag_or_digest) {
    return InvalidArgument("{}: content has digest {}", what, digest);
  }
  HttpRequest put{.method = "PUT",
                  .url = impl_->Url(repository_path, "manifests", tag_or_digest),
                  .headers = {"Content-Type: " + media_type},
                  .body = manifest};
  HttpResponse resp;
  BERTH_RETURN_IF_ERROR(impl_->Send(put, {PushScope(repository_path)}, &resp).Wrap(what));
  if (resp.status != 201 && resp.status != 200 && resp.status != 204) return impl_->HttpError(resp, what);
  if (std::string got = resp.Header("docker-content-digest"); !got.empty() && got != digest) {
    return FailedPrecondition("{} on registry {}: registry stored digest {}, the bytes have {}", what, impl_->host,
                              got, digest);
  }
  return Status::Ok();
}

}  // namespace berth::remotes
