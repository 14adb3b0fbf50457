// An OCI runtime bundle from an image in berthd's store, as `runc`/`crun` and the REST API v1
// take it: DIR/rootfs (the image's unpacked layers, copied out of a temporary view of its
// snapshot) and DIR/config.json (the spec containerd's client would generate for the image, with
// root "rootfs"). The view and its lease are removed again; the bundle belongs to no daemon.
#pragma once

#include <filesystem>
#include <string>

#include "client/client.h"
#include "oci/generate.h"

namespace berth::client {

struct BundleOptions {
  std::string image;                   // a name in the store, unpacked in `snapshotter`
  std::string snapshotter = "overlayfs";
  oci::SpecOptions spec;               // args, env, cwd, terminal, ... over the image's config
};

// FailedPrecondition unless `dir` is absent or an empty directory; NotFound for an image not in
// the store. On failure nothing is left in `dir`.
Status WriteBundle(Client& client, const std::filesystem::path& dir, BundleOptions options);

}  // namespace berth::client
