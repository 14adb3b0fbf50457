// Pulling an image from a registry, as containerd's client.Pull: resolve the reference, fetch
// the index/manifests (only the wanted platform's, unless all platforms), then config and
// layers in parallel into the content store, each blob under containerd's ingest ref
// (`layer-sha256:...`) so an interrupted pull resumes where it stopped (Range request from the
// ingest's offset); the blobs get containerd's labels (gc.ref.content.* for every child, fetched
// or not, and containerd.io/distribution.source.<host> = repository, which push uses for
// cross-repository mounts), blobs already in the store too. A blob another pull is writing is
// waited for. Of an index, the manifest fetched is the one the unpack (ResolveManifest) uses.
// Then the image record is created (or updated) and, unless told not to, unpacked.
// The whole pull runs under a lease (24 h expiry) that ends with it, unless the client has one.
//
//   PullOptions opts;
//   opts.registry.plain_http = true;
//   BERTH_ASSIGN_OR_RETURN(auto pulled, Pull(*client, "127.0.0.1:5000/busybox:1", opts));
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "client/client.h"
#include "client/transfer.h"
#include "client/unpack.h"
#include "images/walk.h"
#include "remotes/registry.h"

namespace berth::client {

struct PullOptions {
  remotes::RegistryOptions registry;
  images::Platform platform = images::HostPlatform();
  bool all_platforms = false;  // fetch every manifest of an index (unpack only `platform`)
  bool unpack = true;
  std::string snapshotter = "overlayfs";
  int max_concurrent_downloads = 3;
  std::string name;        // the image's name; "" for the normalized reference
  labels::Labels labels;   // the image's labels
  TransferCallback progress;                            // may be empty
  std::function<void(const UnpackProgress&)> unpack_progress;  // may be empty
};

struct PullResult {
  Image image;
  std::string chain_id;     // of the unpacked root filesystem ("" when not unpacked)
  int64_t fetched = 0;      // bytes downloaded by this pull (resumed bytes not counted)
  int64_t total = 0;        // bytes of every blob the pull needed
};

// Errors: kInvalidArgument for a bad reference, kNotFound for an unknown repository, tag or
// platform, the registry's errors as remotes::Registry reports them, kFailedPrecondition when
// a blob's digest does not match (its ingest is then dropped) and for a Docker schema 1 image
// (not supported).
// Thread-safety: downloads (and the unpack) run on threads of its own that share `client`;
// `progress` and `unpack_progress` are called from those threads, one call at a time.
Result<PullResult> Pull(Client& client, const std::string& ref, const PullOptions& options);

}  // namespace berth::client
