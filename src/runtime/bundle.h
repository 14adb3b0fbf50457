// A task's bundle: <state>/tasks/<namespace>/<id>, holding the OCI config.json, the rootfs
// mount point, the shim's `log` fifo, and what the shim writes there (`address`, `shim.pid`,
// `shim-binary-path`). The bundle on disk is how berthd finds its shims again after a restart.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::runtime {

struct Bundle {
  std::string ns;
  std::string id;
  std::filesystem::path path;

  std::filesystem::path rootfs() const { return path / "rootfs"; }
  // berthd marks the bundles it makes: its bundle directory is containerd's, so a berthd
  // pointed at containerd's state must never take containerd's bundles for its own.
  bool MadeByBerth() const;
  std::filesystem::path log_fifo() const { return path / "log"; }

  // Creates the directory (0700), rootfs/, config.json (written atomically) and the log fifo.
  // AlreadyExists if a bundle for the id is there.
  static Result<Bundle> Create(const std::filesystem::path& tasks_root, std::string_view ns,
                               std::string_view id, std::string_view spec_json);
  // Every bundle under `tasks_root` (namespace/id directories); leftovers of an interrupted
  // delete (".id") are removed on the way.
  static Result<std::vector<Bundle>> LoadAll(const std::filesystem::path& tasks_root);

  // The shim's ttrpc address as it wrote it ("unix:///..."); NotFound if it never did.
  Result<std::string> ReadAddress() const;
  // The shim binary that served this bundle (written by berthd at start).
  Result<std::string> ReadShimBinary() const;
  Status WriteShimBinary(const std::string& binary) const;

  // Unmounts rootfs (anything left mounted there) and removes the directory: renamed to a
  // hidden name first, so a crash half-way never leaves something that looks like a bundle.
  Status Delete() const;
};

}  // namespace berth::runtime
