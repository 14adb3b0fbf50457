// The OCI content descriptor (ocispec.Descriptor, containerd.types.Descriptor): how every
// component names a blob — the client library, the metadata image store, the differ, the
// registry client and the image walk all pass this one struct. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/labels.h"

namespace berth {

// An OCI platform (ocispec.Platform). Parsing, normalizing and matching are in images/walk.h.
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
  labels::Labels annotations;
  // What an index's manifest entry names; containerd.types.Descriptor has no platform, so
  // the API messages and the image store neither carry nor keep it.
  std::optional<Platform> platform;
};

}  // namespace berth
