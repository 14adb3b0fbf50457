#include "remotes/auth.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "remotes/base64.h"
#include "remotes/challenge.h"

namespace berth::remotes {
namespace {

// Docker's token spec: a token without expires_in lasts 60 seconds.
constexpr std::chrono::seconds kDefaultTokenLifetime{60};

Scopes ScopeList(const std::map<std::string, std::set<std::string>>& grants) {
  Scopes out;
  for (const auto& [resource, actions] : grants) {
    std::string s = resource + ":";
    bool first = true;
    for (const auto& a : actions) {
      if (!first) s += ',';
      s += a;
      first = false;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string Join(const Scopes& scopes, char sep) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string CanonicalScopes(const std::map<std::string, std::set<std::string>>& grants) {
  return Join(ScopeList(grants), ' ');
}

Scopes SplitScopeParam(std::string_view param) {
  Scopes out;
  while (!param.empty()) {
    size_t sp = param.find(' ');
    if (std::string_view s = param.substr(0, sp); !s.empty()) out.emplace_back(s);
    if (sp == std::string_view::npos) break;
    param.remove_prefix(sp + 1);
  }
  return out;
}

// Token servers without the OAuth2 POST endpoint answer these (containerd's list: GCR 404,
// Artifactory 401, ACR 400; 405 for a realm that only takes GET).
bool OAuthUnsupported(long status) { return status == 400 || status == 401 || status == 404 || status == 405; }

bool Covers(const std::map<std::string, std::set<std::string>>& have,
            const std::map<std::string, std::set<std::string>>& want) {
  for (const auto& [resource, actions] : want) {
    auto it = have.find(resource);
    if (it == have.end()) return false;
    if (!std::includes(it->second.begin(), it->second.end(), actions.begin(), actions.end())) return false;
  }
  return true;
}

std::string BasicHeader(const Credentials& c) { return "Basic " + Base64Encode(c.username + ":" + c.secret); }

}  // namespace

std::map<std::string, std::set<std::string>> ParseScopes(const Scopes& scopes) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& s : scopes) {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos) continue;
    auto& actions = out[s.substr(0, colon)];
    std::string_view list = std::string_view(s).substr(colon + 1);
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (std::string_view a = list.substr(0, comma); !a.empty()) actions.emplace(a);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return out;
}

Scopes MergeScopes(const Scopes& a, const Scopes& b) {
  Scopes all = a;
  all.insert(all.end(), b.begin(), b.end());
  return ScopeList(ParseScopes(all));
}

Authorizer::Authorizer(std::string host, CredentialsFn credentials, const Transport* transport)
    : host_(std::move(host)), credentials_(std::move(credentials)), transport_(transport) {}

const std::optional<Credentials>& Authorizer::Creds() {
  if (!creds_) creds_.emplace(credentials_ ? credentials_(host_) : std::nullopt);
  return *creds_;
}

Status Authorizer::Unauthorized(std::string_view why) const {
  return FailedPrecondition("registry {}: unauthorized{}{}", host_, why.empty() ? "" : ": ", why);
}

Result<std::string> Authorizer::Header(const Scopes& scopes) {
  std::lock_guard lock(mu_);
  switch (mode_) {
    case Mode::kNone:
      return std::string();
    case Mode::kBasic: {
      const auto& creds = Creds();
      return creds ? BasicHeader(*creds) : std::string();
    }
    case Mode::kBearer:
      break;
  }
  auto want = ParseScopes(scopes);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expires <= now; });
  // What the challenge named is asked for too (a registry may want more than the repository).
  Scopes ask = MergeScopes(scopes, challenge_scopes_);
  std::string key = Join(ask, ' ');
  if (auto it = tokens_.find(key); it != tokens_.end()) return "Bearer " + it->second.value;
  // A token granted for more (pull,push) serves a narrower request (pull).
  for (const auto& [k, token] : tokens_) {
    if (Covers(token.grants, want)) return "Bearer " + token.value;
  }
  BERTH_ASSIGN_OR_RETURN(Token token, FetchToken(ask));
  std::string header = "Bearer " + token.value;
  tokens_[key] = std::move(token);
  return header;
}

Status Authorizer::OnUnauthorized(const HttpResponse& resp, const std::string& sent) {
  std::vector<Challenge> challenges;
  for (auto [it, end] = resp.headers.equal_range("www-authenticate"); it != end; ++it) {
    auto more = ParseWWWAuthenticate(it->second);
    challenges.insert(challenges.end(), more.begin(), more.end());
  }
  std::lock_guard lock(mu_);
  for (const auto& ch : challenges) {
    if (ch.scheme != "bearer") continue;
    auto realm = ch.params.find("realm");
    if (realm == ch.params.end() || realm->second.empty()) continue;
    mode_ = Mode::kBearer;
    if (realm_ != realm->second) tokens_.clear();
    realm_ = realm->second;
    auto service = ch.params.find("service");
    service_ = service == ch.params.end() ? "" : service->second;
    auto scope = ch.params.find("scope");
    challenge_scopes_ = scope == ch.params.end() ? Scopes{} : SplitScopeParam(scope->second);
    // The token the request carried (if any) was refused: fetch a new one next time.
    std::erase_if(tokens_, [&](const auto& kv) { return "Bearer " + kv.second.value == sent; });
    return Status::Ok();
  }
  for (const auto& ch : challenges) {
    if (ch.scheme != "basic") continue;
    if (!Creds()) return Unauthorized("no credentials for basic authentication");
    if (sent.starts_with("Basic ")) return Unauthorized("credentials rejected");
    mode_ = Mode::kBasic;
    return Status::Ok();
  }
  return Unauthorized(challenges.empty() ? "no WWW-Authenticate challenge" : "unsupported challenge");
}

// Called with mu_ held: concurrent requests wait for one fetch instead of each making one.
// containerd's fetch: an identity token is exchanged with an OAuth2 POST (refresh-token
// grant), falling back to GET when the realm does not take it; otherwise GET, with Basic
// credentials when there are any.
Result<Authorizer::Token> Authorizer::FetchToken(const Scopes& scopes) {
  const auto& creds = Creds();
  const std::string what = fmt::format("token for registry {}", host_);
  HttpResponse resp;
  if (creds && creds->username.empty() && !creds->secret.empty()) {
    std::string form = "grant_type=refresh_token&client_id=berth&refresh_token=" + QueryEscape(creds->secret);
    if (!service_.empty()) form += "&service=" + QueryEscape(service_);
    if (!scopes.empty()) form += "&scope=" + QueryEscape(Join(scopes, ' '));
    HttpRequest req{.method = "POST",
                    .url = realm_,
                    .headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"},
                    .body = form};
    req.resendable = true;  // a token request changes nothing
    BERTH_RETURN_IF_ERROR(transport_->PerformWithRetry(req, &resp).Wrap(what));
    if (!OAuthUnsupported(resp.status)) return ParseTokenAnswer(resp, scopes);
    log::Debug("registry token POST refused, trying GET", {{"host", host_}, {"status", resp.status}});
  }
  std::string query;
  auto add = [&](std::string_view k, std::string_view v) {
    query += query.empty() ? "" : "&";
    query += std::string(k) + "=" + QueryEscape(v);
  };
  if (!service_.empty()) add("service", service_);
  for (const auto& s : scopes) add("scope", s);
  HttpRequest req{.method = "GET", .url = realm_ + (realm_.find('?') == std::string::npos ? "?" : "&") + query};
  if (creds) req.headers.push_back("Authorization: " + BasicHeader(*creds));
  req.follow_redirects = true;
  BERTH_RETURN_IF_ERROR(transport_->PerformWithRetry(req, &resp).Wrap(what));
  return ParseTokenAnswer(resp, scopes);
}

Result<Authorizer::Token> Authorizer::ParseTokenAnswer(const HttpResponse& resp, const Scopes& scopes) {
  if (resp.status == 401 || resp.status == 403) return Unauthorized("token server refused the credentials");
  if (resp.status != 200) {
    return Unknown("token for registry {} from {}: HTTP {}: {}", host_, UrlOrigin(realm_), resp.status,
                   RegistryErrorText(resp.body));
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_object()) return Unknown("token for registry {}: answer is not JSON", host_);
  Token token;
  for (const char* field : {"token", "access_token"}) {
    if (auto it = j.find(field); it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      token.value = it->get<std::string>();
      break;
    }
  }
  if (token.value.empty()) return Unknown("token for registry {}: answer has no token", host_);
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
    lifetime = std::chrono::seconds(it->get<int64_t>());
  }
  // Renew a little early so a token does not expire on its way to the registry.
  token.expires = std::chrono::steady_clock::now() + lifetime - std::min<std::chrono::seconds>(lifetime / 10, std::chrono::seconds(10));
  token.grants = ParseScopes(scopes);
  log::Debug("registry token fetched", {{"host", host_}, {"scopes", CanonicalScopes(token.grants)},
                                        {"expires_in", lifetime.count()}});
  return token;
}

}  // namespace berth::remotes
