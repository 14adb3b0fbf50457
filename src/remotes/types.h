// The registry client's vocabulary: the descriptor it resolves and transfers, its options, and
// the callbacks blob bytes flow through. Shared by the Registry (registry.h) and its transport
// (http.h, scheme.h) without either including the other.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/descriptor.h"
#include "common/status.h"
#include "remotes/credentials.h"

namespace berth::remotes {

// common/descriptor.h; the registry reads media type, digest and size only.
using Descriptor = berth::Descriptor;

struct RegistryOptions {
  // The scheme as ctr 1.6 picks it (containerd's config.ConfigureHosts): https, except for a
  // loopback registry ("localhost", 127.0.0.0/8, ::1, any port), which gets plain http even
  // without plain_http. plain_http: http for every host.
  bool plain_http = false;
  bool loopback_https = false;  // https for a loopback registry too (ctr needs a hosts.toml)
  bool skip_verify = false;  // https without certificate verification
  std::string ca_file;       // extra CA bundle (PEM) for https; "" for the system's
  CredentialsFn credentials;  // nullptr: anonymous
  int retries = 3;            // attempts after the first for transient failures (connection
                              // errors, 429, 5xx), each after backoff * 2^n
  std::chrono::milliseconds backoff{200};
  std::chrono::seconds connect_timeout{30};
  // A transfer slower than 1 KiB/s for this long is aborted (and retried).
  std::chrono::seconds low_speed_time{60};
  std::string user_agent = "berth";
};

// Receives the bytes of a blob in order; an error Status aborts the transfer with it.
using BlobSink = std::function<Status(std::string_view data)>;
// Supplies the bytes of a blob to push: fills `buf` with up to `buf.size()` bytes and returns
// how many (0 at the end), or an error.
using BlobSource = std::function<Result<size_t>(std::span<char> buf)>;

}  // namespace berth::remotes
