// Fuzz target: a registry's 401 answer as berth's registry client reads it. The input is the value
// of one WWW-Authenticate header (src/remotes/challenge.h), e.g.
// `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`.
// It is parsed by ParseWWWAuthenticate, then handed to an Authorizer (src/remotes/auth.h) as the
// 401 answer to a request, as Registry does; the scope parameters go through
// ParseScopes/MergeScopes as a token request would use them. No token is ever fetched (no network):
// Header() is only asked when the challenge chose Basic (or nothing), which needs none.
// (The token server's JSON answer is parsed by Authorizer::ParseTokenAnswer, which is private and
// only reached through an HTTP fetch, so it is not covered here.)
//
// Invariants: every challenge has a non-empty lower-case scheme and lower-case parameter names;
// the challenges written back as a header (quoted values, escaped) parse to the same challenges;
// OnUnauthorized accepts exactly when a bearer challenge with a realm, or a basic one, is offered
// (the credentials are fixed), and then Header() is "" or the Basic header of those credentials;
// a second 401 carrying those Basic credentials is refused (the credentials were rejected);
// MergeScopes is idempotent and its scopes each name one resource.
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "remotes/auth.h"
#include "remotes/base64.h"
#include "remotes/challenge.h"
#include "remotes/credentials.h"
#include "remotes/http.h"

namespace berth::remotes {
namespace {

constexpr const char* kHost = "reg.test:5000";

bool SameChallenges(const std::vector<Challenge>& a, const std::vector<Challenge>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].scheme != b[i].scheme || a[i].params != b[i].params) return false;
  }
  return true;
}

std::string Quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The challenges as a server would send them: `scheme name="value", name2="value2", scheme2 ...`.
std::string Header(const std::vector<Challenge>& challenges) {
  std::string out;
  for (const Challenge& ch : challenges) {
    if (!out.empty()) out += ", ";
    out += ch.scheme;
    bool first = true;
    for (const auto& [name, value] : ch.params) {
      out += first ? " " : ", ";
      out += name + "=" + Quote(value);
      first = false;
    }
  }
  return out;
}

bool IsLower(std::string_view s) {
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

void CheckScopes(const Scopes& scopes) {
  Scopes merged = MergeScopes(scopes, {PullScope("library/busybox")});
  FUZZ_CHECK(MergeScopes(merged, {}) == merged);
  FUZZ_CHECK(MergeScopes(merged, merged) == merged);
  std::set<std::string> resources;
  for (const auto& [resource, actions] : ParseScopes(merged)) {
    FUZZ_CHECK(resources.insert(resource).second);
    (void)actions;
  }
  FUZZ_CHECK(resources.size() == merged.size());
}

void CheckAuthorizer(const std::string& header, const std::vector<Challenge>& challenges) {
  const Credentials creds{.username = "user", .secret = "pw"};
  const std::string basic = "Basic " + Base64Encode(creds.username + ":" + creds.secret);
  bool bearer = false, has_basic = false;
  for (const Challenge& ch : challenges) {
    auto realm = ch.params.find("realm");
    if (ch.scheme == "bearer" && realm != ch.params.end() && !realm->second.empty()) bearer = true;
    if (ch.scheme == "basic") has_basic = true;
  }
  // No transport: nothing here may make the Authorizer fetch a token (a fetch would crash, not
  // reach the network).
  Authorizer auth(kHost, [creds](const std::string&) -> std::optional<Credentials> { return creds; }, nullptr);
  HttpResponse resp;
  resp.status = 401;
  resp.headers.emplace("www-authenticate", header);
  Status st = auth.OnUnauthorized(resp, "");
  FUZZ_CHECK(st.ok() == (bearer || has_basic));
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == Errc::kFailedPrecondition);
    Result<std::string> none = auth.Header({PullScope("a")});
    FUZZ_CHECK(none.ok() && none->empty());
    return;
  }
  if (bearer) return;  // Header() would fetch a token from the realm
  Result<std::string> h = auth.Header({PullScope("a")});
  FUZZ_CHECK(h.ok() && *h == basic);
  FUZZ_CHECK(auth.OnUnauthorized(resp, basic).code() == Errc::kFailedPrecondition);
}

}  // namespace
}  // namespace berth::remotes

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::remotes;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::vector<Challenge> challenges = ParseWWWAuthenticate(input);
  for (const Challenge& ch : challenges) {
    FUZZ_CHECK(!ch.scheme.empty());
    FUZZ_CHECK(IsLower(ch.scheme));
    for (const auto& [name, value] : ch.params) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(IsLower(name));
      (void)value;
    }
    if (auto scope = ch.params.find("scope"); scope != ch.params.end()) CheckScopes(Words(scope->second));
  }
  FUZZ_CHECK(SameChallenges(ParseWWWAuthenticate(Header(challenges)), challenges));
  CheckAuthorizer(input, challenges);
  return 0;
}
