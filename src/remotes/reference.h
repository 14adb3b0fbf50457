// Image references as docker and containerd's ctr read them: `[domain/]path[:tag][@digest]`.
// A name without a domain is on docker.io ("busybox" -> docker.io/library/busybox:latest);
// the first component is a domain when it has a '.' or ':' or is "localhost".
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::remotes {

struct Reference {
  std::string domain;  // "127.0.0.1:5000", "docker.io"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest" when neither tag nor digest was given; "" with a digest only
  std::string digest;  // "sha256:<hex>" or ""

  // domain/path
  std::string Repository() const;
  // The name images get: domain/path:tag, domain/path@digest, or domain/path:tag@digest.
  std::string String() const;
  // What the registry's /manifests/ endpoint takes: the digest if any, else the tag.
  std::string Object() const;
};

// Parses and normalizes `ref`. InvalidArgument (naming the reference) for an empty or
// malformed one (upper-case path, bad tag, bad digest).
Result<Reference> ParseReference(std::string_view ref);

// The host a domain is served from: "docker.io" -> "registry-1.docker.io"; others as given.
std::string RegistryHost(std::string_view domain);

}  // namespace berth::remotes
