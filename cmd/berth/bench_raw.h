// The floor under `berth bench`: the same containers started with the OCI runtime directly, no
// daemon and no shim on the timed path (`berth bench --raw`). Before the batch (not timed) the
// daemon only resolves the image and makes a read-only view of its layers; each start is then
// what a daemon cannot avoid: an overlay of the view's layers with a fresh upper directory,
// the same spec as a `berth bench` container (generated from the image config, the rootfs
// mounted for the user lookups) written as the bundle's config.json, and `RUNTIME run -d`
// (stdio /dev/null). Each teardown is `RUNTIME delete -f` (SIGKILL, wait, delete), the unmount
// and the removal of the bundle. The runtime keeps its state under the work directory, not in
// the machine's /run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/status.h"
#include "oci/image_config.h"

namespace berth::cli {

// One batch's environment: where bundles go, the layers to stack, how to call the runtime.
// Thread-safe: Start/Teardown of different ids run concurrently.
class RawBench {
 public:
  // `view_mounts`: a read-only view of the image's layers (one bind mount, or an overlay with
  // lowerdir=); `runtime_binary`: runc or a runc-compatible binary (crun), by name or path;
  // `work_dir`: an empty directory for the bundles and the runtime's state.
  static Result<RawBench> Create(const std::vector<client::Mount>& view_mounts, std::string runtime_binary,
                                 std::filesystem::path work_dir, std::string namespace_name,
                                 oci::ImageConfig image_config, std::vector<std::string> command);

  // The timed steps of one container.
  Status Start(const std::string& id) const;
  Status Teardown(const std::string& id) const;
  // Of `ids`, how many the runtime lists as running.
  Result<int> CountRunning(const std::vector<std::string>& ids) const;

 private:
  RawBench() = default;
  Status RunRuntime(const std::vector<std::string>& args, std::string* out = nullptr) const;

  std::string lowerdir_;  // the view's layers, overlay's lowerdir= value
  std::string runtime_;
  std::filesystem::path work_;
  std::filesystem::path state_;  // the runtime's --root
  std::string namespace_name_;
  oci::ImageConfig image_config_;
  std::vector<std::string> command_;
};

}  // namespace berth::cli
