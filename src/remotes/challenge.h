// WWW-Authenticate challenges (RFC 7235): `Bearer realm="https://auth",service="reg",
// scope="repository:a:pull,push", Basic realm="x"`. Scheme names are lower-cased, parameter
// names too; quoted values keep their commas and lose their backslash escapes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::remotes {

struct Challenge {
  std::string scheme;                         // "basic", "bearer"
  std::map<std::string, std::string> params;  // "realm", "service", "scope", "error", ...
};

// All challenges of one header value, in order; unparsable tails are dropped.
std::vector<Challenge> ParseWWWAuthenticate(std::string_view header);

}  // namespace berth::remotes
