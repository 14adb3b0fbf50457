// Unpacking an image into a snapshotter, as containerd's client does (image.Unpack): for each
// layer of the platform's manifest, in order, the committed snapshot named by the chain id of
// the layers so far is reused when it exists; otherwise an active snapshot is prepared on the
// previous one, the layer applied to it through the diff service (its uncompressed digest
// checked against the config's diff id) and committed under the chain id. The config blob gets
// the `containerd.io/gc.ref.snapshot.<snapshotter>` label pointing at the top snapshot (as
// containerd 1.6's image.Unpack does), so garbage collection keeps the snapshots while the
// image lives.
#pragma once

#include <functional>
#include <string>

#include "client/client.h"
#include "images/walk.h"

namespace berth::client {

struct UnpackProgress {
  int layer = 0;        // 0-based index of the layer
  int layers = 0;       // how many the manifest has
  std::string digest;   // the layer blob's digest
  bool reused = false;  // its snapshot already existed
  bool done = false;    // false: about to apply; true: committed (or reused)
};

struct UnpackOptions {
  std::string snapshotter = "overlayfs";
  images::Platform platform = images::HostPlatform();
  std::function<void(const UnpackProgress&)> progress;  // may be empty
  // Called before the config is read and before each layer is applied, with the blob's
  // digest; it may block until the blob is in the store (a pull unpacks while it downloads)
  // and fails the unpack with its error. Empty: the blobs are there.
  std::function<Status(const std::string& digest)> wait_for_blob;
};

// Unpacks `image` (in the client's namespace) and returns the chain id of its top layer (the
// snapshot containers of the image are prepared from). The work runs under a lease of its own
// (the active snapshots are not collected meanwhile) unless the client already has a lease.
// kNotFound when a blob is missing, kFailedPrecondition when a layer's diff id does not match.
Result<std::string> UnpackImage(Client& client, const Image& image, const UnpackOptions& options = {});

}  // namespace berth::client
