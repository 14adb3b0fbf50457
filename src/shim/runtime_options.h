// runc's shim options (containerd.runc.v1.Options): which runtime binary, its state root,
// systemd cgroups, pivot/keyring flags. They come as an Any (on `start`'s stdin and in
// CreateTaskRequest.options) and are kept in the bundle as options.json (containerd's format:
// the proto field names) so that `delete` finds the runtime again after the shim died.
#pragma once

#include <cstddef>
#include <string>

#include <google/protobuf/any.pb.h>

#include "common/status.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"
#include "shim/oci_runtime.h"

namespace berth::shim {

using RuncOptions = containerd::runc::v1::Options;

inline constexpr const char* kDefaultRuntimeRoot = "/run/containerd/runc";
inline constexpr const char* kOptionsFile = "options.json";
// The most of a bundle's config.json the shim reads: specs are kilobytes, this bounds a broken one.
inline constexpr size_t kSpecLimit = 16 << 20;

// Unpacks an Any of type containerd.runc.v1.Options; an empty Any gives the defaults.
Result<RuncOptions> UnpackOptions(const google::protobuf::Any& any);

Status WriteOptions(const std::string& bundle, const RuncOptions& opts);
// NotFound when the bundle has none.
Result<RuncOptions> ReadOptions(const std::string& bundle);

// The runtime command line for a task: binary (default "runc"), root `<root>/<namespace>`
// (as containerd joins it), --log <bundle>/log.json.
RuntimeConfig RuntimeConfigFor(const RuncOptions& opts, const std::string& ns, const std::string& bundle);

// containerd's rule: when the container has its own pid namespace the kernel kills the rest
// when init dies; otherwise the shim must `kill --all`. Reads <bundle>/config.json.
bool ShouldKillAllOnExit(const std::string& bundle);

}  // namespace berth::shim
