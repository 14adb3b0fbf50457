// Finding, starting and cleaning up shim binaries, with containerd's shim v2 conventions:
// `SHIM -namespace NS -address GRPC -publish-binary SELF -id ID start` in the bundle dir, with
// TTRPC_ADDRESS in the environment and the runtime options (a serialized Any) on stdin, prints
// the shim's ttrpc address; `... -bundle DIR delete` cleans up after a dead shim and prints a
// serialized DeleteResponse.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <google/protobuf/any.pb.h>

#include "common/status.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "runtime/bundle.h"

namespace berth::runtime {

struct ShimLauncherConfig {
  std::string grpc_address;    // berthd's gRPC socket path
  std::string ttrpc_address;   // berthd's ttrpc events socket path
  std::string publish_binary;  // berthd's own executable
  // The binary that serves the runc runtime names (io.containerd.runc.v1/v2): berth-shim by
  // default; "containerd-shim-runc-v2" (or any path) to use another shim v2.
  std::string runc_shim;
  bool debug = false;
};

// Thread-safe: every method is const over a config fixed at construction; concurrent starts are
// separate processes.
class ShimLauncher {
 public:
  explicit ShimLauncher(ShimLauncherConfig config) : config_(std::move(config)) {}

  // The shim binary for a runtime name: an absolute path as is; io.containerd.runc.v1/v2 (and
  // io.containerd.berth.v1) -> runc_shim; io.containerd.NAME.VERSION -> containerd-shim-NAME-VERSION
  // on PATH or beside berthd. InvalidArgument for a malformed name, NotFound if not installed.
  Result<std::string> Resolve(const std::string& runtime) const;

  // Runs `start`; returns the shim's address. Unavailable with the shim's output on failure.
  Result<std::string> Start(const std::string& binary, const Bundle& bundle,
                            const std::optional<google::protobuf::Any>& options) const;

  // Runs `delete` for a shim that is gone.
  Result<containerd::task::v2::DeleteResponse> CleanupDead(const std::string& binary, const Bundle& bundle) const;

  const ShimLauncherConfig& config() const { return config_; }

 private:
  std::vector<std::string> CommonArgs(const Bundle& bundle) const;
  ShimLauncherConfig config_;
};

}  // namespace berth::runtime
