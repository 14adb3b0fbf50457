// A new container from an image in the store, as containerd's client.NewContainer with ctr's
// options (WithNewSnapshot, WithImageConfig, WithImageConfigLabels, WithRuntime): the image's
// config gives the spec defaults (oci::GenerateSpec), a writable snapshot keyed by the container
// id is prepared on the image's chain id (under a temporary lease, so nothing is collected
// before the container record holds it), and the record names the runtime (runc shim v2 by
// default). On failure nothing is left behind.
//
//   NewContainerOptions opts;
//   opts.id = "hello";
//   opts.image = "127.0.0.1:5000/busybox:1";
//   opts.spec.args = {"echo", "hello"};
//   BERTH_ASSIGN_OR_RETURN(Container c, NewContainer(*client, opts));
#pragma once

#include <string>

#include "client/client.h"
#include "client/container_spec.h"
#include "images/walk.h"
#include "oci/generate.h"

namespace berth::client {

// The label holding the image's stop signal (containerd's StopSignalLabel).
inline constexpr const char* kStopSignalLabel = "io.containerd.image.config.stop-signal";

struct NewContainerOptions {
  std::string id;
  std::string image;  // the image's name in the store; unpacked in `snapshotter` (UnpackImage)
  // The process and the rest of the spec (args, env, cwd, user, mounts, terminal, memory
  // limit, ...). Its namespace, id, image config and rootfs are filled in here.
  oci::SpecOptions spec;
  std::string runtime = kRuncV2Runtime;
  std::string runc_binary;  // runc shim only: another runc-compatible binary (crun)
  std::string snapshotter = "overlayfs";
  labels::Labels labels;  // on top of the image config's labels
  // The platform whose manifest of a multi-platform image gives the config and the snapshot
  // chain (containerd's WithPlatform); the image must be unpacked for it.
  images::Platform platform = images::HostPlatform();
};

// kNotFound "image X not found" when the image is not in the store; kFailedPrecondition when it
// is not unpacked in the snapshotter; kAlreadyExists when the id is taken.
Result<Container> NewContainer(Client& client, NewContainerOptions options);

// Removes the container's snapshot, then its record (containerd's WithSnapshotCleanup).
Status DeleteContainerAndSnapshot(Client& client, const Container& container);

}  // namespace berth::client
