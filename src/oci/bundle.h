// An OCI runtime bundle on disk (a directory with config.json and the root filesystem it names),
// read for a container that runs from it rather than from an image: containerd 0.0.x's way, now
// the REST API's `POST /containers/{id}` and `berth containers start ID BUNDLE`. The spec is
// returned with its root made absolute (the task's own bundle directory is elsewhere) and, when
// the bundle names no cgroup, containerd's /<namespace>/<id>.
#pragma once

#include <string>

#include "common/status.h"

namespace berth::oci {

// The label that keeps a bundle container's bundle path (the seed's PATH / bundlePath).
inline constexpr const char* kBundleLabel = "io.berth.bundle";

struct BundleSpec {
  std::string dir;        // the bundle, canonical
  std::string spec_json;  // config.json, adjusted as above
  bool terminal = false;  // its process asks for a terminal
};

// InvalidArgument for a relative path or a config.json that is not a runtime spec (no process
// with args, no root.path); NotFound for a missing directory, config.json or root filesystem.
Result<BundleSpec> LoadBundle(const std::string& bundle_path, const std::string& cgroup_path);

}  // namespace berth::oci
