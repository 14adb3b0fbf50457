// Pushing an image to a registry, as containerd's client.Push: every blob the image reaches
// (for one platform when asked) goes up leaves first — configs and layers in parallel, each
// skipped when the repository has it, mounted from another repository of the same registry
// when the blob's containerd.io/distribution.source label names one, uploaded otherwise — then
// the manifests by digest and the root (manifest or index) under the reference's tag.
#pragma once

#include <optional>
#include <string>

#include "client/client.h"
#include "client/transfer.h"
#include "images/walk.h"
#include "remotes/registry.h"

namespace berth::client {

struct PushOptions {
  remotes::RegistryOptions registry;
  // Only this platform's manifest of an index (the index itself is still pushed, as containerd
  // does); nullopt: everything.
  std::optional<images::Platform> platform;
  int max_concurrent_uploads = 3;
  int64_t chunk_size = 64 << 20;  // blobs larger than this go up in PATCH chunks
  TransferCallback progress;      // may be empty
};

struct PushResult {
  Descriptor target;     // what the reference now names in the registry
  int64_t uploaded = 0;  // bytes sent
  int64_t total = 0;     // bytes of every blob pushed or found there
};

// Pushes the image named `local` (in the client's namespace) as `remote`. kNotFound when the
// image or one of its blobs is missing from the store.
// Thread-safety: uploads run on threads of its own that share `client`; `progress` is called
// from those threads, one call at a time.
Result<PushResult> Push(Client& client, const std::string& remote, const std::string& local,
                        const PushOptions& options);

}  // namespace berth::client
