#include "remotes/scheme.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>

namespace berth::remotes {
namespace {

// The host part, as Go's net.SplitHostPort gives it; the whole string when it has no port
// ("localhost") or too many colons to have one ("::1").
std::string_view HostPart(std::string_view host) {
  if (host.starts_with('[')) {
    // "[v6]:port"; a bracketed address without a port is no address to Go ("missing port").
    size_t close = host.find("]:");
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  if (std::count(host.begin(), host.end(), ':') == 1) return host.substr(0, host.find(':'));
  return host;
}

}  // namespace

bool IsLocalhost(std::string_view host) {
  std::string h(HostPart(host));
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

std::string_view RegistryScheme(std::string_view host, const RegistryOptions& options) {
  if (options.plain_http) return "http";
  if (IsLocalhost(host) && !options.loopback_https) return "http";
  return "https";
}

}  // namespace berth::remotes
