// The Authorization a registry wants, learnt from its 401 challenges (containerd's
// docker authorizer): Basic with the host's credentials, or Bearer tokens fetched from the
// challenge's realm for a set of scopes (the request's, plus the scope the last challenge
// named) and cached until they expire. The credentials are asked for once. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "remotes/credentials.h"
#include "remotes/http.h"

namespace berth::remotes {

// Token scopes: "repository:<path>:<action>[,<action>]" each.
using Scopes = std::vector<std::string>;

inline std::string PullScope(const std::string& path) { return "repository:" + path + ":pull"; }
inline std::string PushScope(const std::string& path) { return "repository:" + path + ":pull,push"; }

class Authorizer {
 public:
  // `host` names the registry in messages and is what `credentials` is asked about (once, on
  // the first challenge: a docker config.json is read once per Registry).
  Authorizer(std::string host, CredentialsFn credentials, const Transport* transport);

  // The Authorization header value for a request needing `scopes` ("" until a challenge said
  // what is wanted); may fetch a token.
  Result<std::string> Header(const Scopes& scopes);

  // Learns from a 401 answer to a request that carried `sent` (the Authorization value, "" for
  // none): its WWW-Authenticate challenges say what to send, and a token it refused is
  // forgotten (only that one: others' concurrent requests may have fetched a good one since).
  // Ok: retrying with Header() may succeed. FailedPrecondition "unauthorized" when it cannot
  // (no credentials for Basic, no usable challenge).
  Status OnUnauthorized(const HttpResponse& resp, const std::string& sent);

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
    std::map<std::string, std::set<std::string>> grants;  // resource -> actions
  };
  enum class Mode { kNone, kBasic, kBearer };

  Result<Token> FetchToken(const Scopes& scopes);
  Result<Token> ParseTokenAnswer(const HttpResponse& resp, const Scopes& scopes);
  const std::optional<Credentials>& Creds();  // mu_ held
  Status Unauthorized(std::string_view why) const;

  const std::string host_;
  const CredentialsFn credentials_;
  const Transport* transport_;

  std::mutex mu_;
  Mode mode_ = Mode::kNone;
  std::string realm_, service_;
  Scopes challenge_scopes_;  // the scope parameter of the last Bearer challenge
  std::optional<std::optional<Credentials>> creds_;  // asked once
  std::map<std::string, Token> tokens_;  // by canonical scope string
};

// "repository:a:pull" + "repository:a:push" -> resource -> {pull, push}.
std::map<std::string, std::set<std::string>> ParseScopes(const Scopes& scopes);
// The scopes of `a` and `b` merged, one per resource, sorted: ["repository:a:pull,push", ...].
Scopes MergeScopes(const Scopes& a, const Scopes& b);

}  // namespace berth::remotes
