#include "client/container_new.h"

#include <openssl/rand.h>

#include <chrono>

#include "client/image_parts.h"
#include "client/temp_lease.h"
#include "common/logging.h"
#include "images/rootfs.h"
#include "images/walk.h"
#include "mount/scoped_mount.h"
#include "oci/image_config.h"

namespace berth::client {

Result<Container> NewContainer(Client& client, NewContainerOptions o) {
  if (!o.runc_binary.empty() && o.runtime != kRuncV2Runtime) {
    return InvalidArgument("--runc-binary is only supported for the {} runtime", kRuncV2Runtime);
  }
  BERTH_ASSIGN_OR_RETURN(auto image, LoadImage(client, o.image, o.platform));
  o.spec.namespace_name = client.namespace_name();
  o.spec.id = o.id;
  o.spec.image = image.config;
  if (auto parent = client.StatSnapshot(o.snapshotter, image.chain_id); !parent.ok()) {
    if (!parent.status().Is(Errc::kNotFound)) return parent.status();
    return FailedPrecondition("image {} is not unpacked in snapshotter {:?} (no snapshot {})", o.image,
                              o.snapshotter, image.chain_id);
  }

  // Everything made from here on is held by a lease until the container record holds it.
  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  Client& leased = lease.client();
  auto mounts = leased.PrepareSnapshot(o.snapshotter, o.id, image.chain_id);
  if (!mounts.ok()) return mounts.status().Wrap(fmt::format("snapshot {:?}", o.id));
  auto remove_snapshot = [&] {
    if (Status st = leased.RemoveSnapshot(o.snapshotter, o.id); !st.ok()) {
      log::Warn("removing the snapshot", {{"key", o.id}, {"error", st.ToString()}});
    }
  };

  // Users and groups are looked up in the container's own /etc (containerd mounts the
  // snapshot for that too).
  Result<oci::Spec> spec = Status(Errc::kUnknown, "");
  {
    auto rootfs = mount::ScopedMount::Create(*mounts);
    if (!rootfs.ok()) {
      remove_snapshot();
      return rootfs.status().Wrap("mounting the container's root filesystem");
    }
    o.spec.rootfs = rootfs->path();
    spec = oci::GenerateSpec(o.spec);
  }
  if (!spec.ok()) {
    remove_snapshot();
    return spec.status();
  }

  Container c;
  c.id = o.id;
  c.image = image.image.name;
  c.labels = image.config.labels;  // WithImageConfigLabels
  for (const auto& [k, v] : image.image.labels) {
    if (labels::Validate(k, v).ok()) c.labels[k] = v;
  }
  for (const auto& [k, v] : o.labels) c.labels[k] = v;
  c.labels[kStopSignalLabel] = image.config.stop_signal.empty() ? "SIGTERM" : image.config.stop_signal;
  c.runtime.name = o.runtime;
  if (o.runtime == kRuncV2Runtime) c.runtime.options = RuncOptionsAny(o.runc_binary);
  c.spec = SpecAny(oci::ToJson(*spec).dump());
  c.snapshotter = o.snapshotter;
  c.snapshot_key = o.id;
  auto created = leased.CreateContainer(c);
  if (!created.ok()) {
    remove_snapshot();
    return created.status();
  }
  return created;
}

Status DeleteContainerAndSnapshot(Client& client, const Container& container) {
  if (!container.snapshot_key.empty() && !container.snapshotter.empty()) {
    Status st = client.RemoveSnapshot(container.snapshotter, container.snapshot_key);
    if (!st.ok() && !st.Is(Errc::kNotFound)) return st.Wrap("failed to remove snapshot");
  }
  return client.DeleteContainer(container.id);
}

}  // namespace berth::client
