// Docker's reference grammar (distribution/reference) and its normalization, written out by
// hand: the grammar is small and a hand parser gives messages that say what is wrong.
#include "remotes/reference.h"

#include <algorithm>

namespace berth::remotes {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr std::string_view kDefaultDomain = "docker.io";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool ValidPathComponent(std::string_view s) {
  size_t i = 0;
  auto alnums = [&] {
    size_t start = i;
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    return i > start;
  };
  if (!alnums()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnums()) return false;
  }
  return true;
}

// domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool ValidDomainComponent(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// domain: component(.component)* (:port)? or an IPv6 address in brackets (:port)?
bool ValidDomain(std::string_view d) {
  std::string_view host = d;
  std::string_view port;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view inner = d.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(),
                     [](char c) { return IsHex(c) || (c >= 'A' && c <= 'F') || c == ':'; })) {
      return false;
    }
    std::string_view rest = d.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    if (port.empty()) return false;  // "[::1]:" (docker's grammar wants digits)
    host = {};
  } else if (size_t colon = d.find(':'); colon != std::string_view::npos) {
    host = d.substr(0, colon);
    port = d.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!port.empty() && !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  while (!host.empty()) {
    size_t dot = host.find('.');
    if (!ValidDomainComponent(host.substr(0, dot))) return false;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
    if (host.empty()) return false;  // trailing dot
  }
  return true;
}

// tag: [\w][\w.-]{0,127}
bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !IsWord(t.front())) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return IsWord(c) || c == '.' || c == '-'; });
}

bool AllHex(std::string_view s) { return std::all_of(s.begin(), s.end(), IsHex); }

// sha256:<64 hex> or sha512:<128 hex>, lower case.
bool ValidDigest(std::string_view d) {
  if (d.starts_with("sha256:")) return d.size() == 7 + 64 && AllHex(d.substr(7));
  if (d.starts_with("sha512:")) return d.size() == 7 + 128 && AllHex(d.substr(7));
  return false;
}

}  // namespace

std::string Reference::Repository() const { return domain + "/" + path; }

std::string Reference::String() const {
  std::string s = Repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::Object() const { return digest.empty() ? tag : digest; }

Result<Reference> ParseReference(std::string_view ref) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgument("reference \"{}\": {}", ref, why);
  };
  if (ref.empty()) return invalid("empty reference");
  Reference out;
  std::string_view rest = ref;

  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!ValidDigest(digest)) return invalid("invalid digest (want sha256:<64 hex>)");
    out.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!ValidTag(tag)) return invalid("invalid tag");
    out.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid("empty name");
  if (rest.size() == 64 && AllHex(rest)) {
    return invalid("cannot specify 64-byte hexadecimal strings");
  }

  std::string_view remainder = rest;
  std::string domain(kDefaultDomain);
  if (size_t first = rest.find('/'); first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      if (!ValidDomain(head)) return invalid("invalid domain");
      domain = std::string(head);
      remainder = rest.substr(first + 1);
    }
  }
  if (domain == "index.docker.io") domain = std::string(kDefaultDomain);
  std::string path(remainder);
  if (domain == kDefaultDomain && path.find('/') == std::string::npos) path = "library/" + path;

  if (std::any_of(path.begin(), path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return invalid("repository name must be lowercase");
  }
  std::string_view p = path;
  while (true) {
    size_t s = p.find('/');
    if (!ValidPathComponent(p.substr(0, s))) return invalid("invalid repository name");
    if (s == std::string_view::npos) break;
    p.remove_prefix(s + 1);
  }
  if (domain.size() + 1 + path.size() > kMaxNameLength) {
    return invalid("repository name must not be more than 255 characters");
  }
  out.domain = std::move(domain);
  out.path = std::move(path);
  if (out.tag.empty() && out.digest.empty()) out.tag = "latest";
  return out;
}

std::string RegistryHost(std::string_view domain) {
  if (domain == kDefaultDomain) return "registry-1.docker.io";
  return std::string(domain);
}

}  // namespace berth::remotes
