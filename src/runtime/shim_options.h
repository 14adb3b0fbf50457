// The options a shim is started with (on its stdin) and that its Create gets, from a
// container's runtime name and options and the Create request's options, as containerd 1.6
// picks them. For the runc runtimes the client's options are laid over the daemon's defaults (its
// root for the OCI runtime's state, the config's defaults), field by field, so
// a client that sets only BinaryName still gets berthd's root. containerd 1.6's legacy runtime name
// `io.containerd.runtime.v1.linux` is served by the same runc shim: its
// `containerd.linux.runc.RuncOptions` (container) and `CreateOptions` (task) become one
// `containerd.runc.v1.Options`.
#pragma once

#include <optional>
#include <string>

#include <google/protobuf/any.pb.h>

#include "common/status.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace berth::runtime {

inline constexpr const char* kRuncV1Runtime = "io.containerd.runc.v1";
inline constexpr const char* kRuncV2Runtime = "io.containerd.runc.v2";
inline constexpr const char* kLinuxV1Runtime = "io.containerd.runtime.v1.linux";

// The runtime names served by the runc shim (berth-shim or the configured one).
bool IsRuncRuntime(const std::string& runtime);

// The daemon's defaults for the runc shim's options.
struct ShimDefaults {
  ShimDefaults(containerd::runc::v1::Options runc_options = {}, containerd::runc::v1::Options linux_v1_options = {})
      : runc(std::move(runc_options)), linux_v1(std::move(linux_v1_options)) {}
  containerd::runc::v1::Options runc;      // every runc runtime name
  containerd::runc::v1::Options linux_v1;  // laid over `runc` for io.containerd.runtime.v1.linux only
};

// InvalidArgument when options of a known type cannot be decoded or a type does not fit the
// runtime (e.g. v2 options for the v1 runtime).
Result<std::optional<google::protobuf::Any>> ShimOptions(
    const std::string& runtime, const std::optional<google::protobuf::Any>& runtime_options,
    const std::optional<google::protobuf::Any>& task_options, const ShimDefaults& defaults);

}  // namespace berth::runtime
