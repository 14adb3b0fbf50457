// containerd's checkpoint format: the media types of the blobs a checkpoint image holds and the
// annotations of its index (containerd 1.6's images/mediatypes.go and container.go).
#pragma once

#include <string>
#include <string_view>

namespace berth::checkpoint {

// criu's image files, as a tar.
inline constexpr const char* kMediaTypeCriuTar = "application/vnd.containerd.container.criu.checkpoint.criu.tar";
// The container's OCI spec: the serialized google.protobuf.Any of its record.
inline constexpr const char* kMediaTypeConfig = "application/vnd.containerd.container.checkpoint.config.v1+proto";
// The checkpoint's options (a serialized Any of containerd.runc.v1.CheckpointOptions).
inline constexpr const char* kMediaTypeOptions = "application/vnd.containerd.container.checkpoint.options.v1+proto";
// The container's runtime options (a serialized Any).
inline constexpr const char* kMediaTypeRuntimeOptions =
    "application/vnd.containerd.container.checkpoint.runtime.options+proto";

// Index annotations.
inline constexpr const char* kAnnotationImageName = "org.opencontainers.image.ref.name";
inline constexpr const char* kAnnotationRuntime = "io.containerd.checkpoint.runtime";
inline constexpr const char* kAnnotationSnapshotter = "io.containerd.checkpoint.snapshotter";

// The label containerd's task.Checkpoint puts on the images it makes.
inline constexpr const char* kCheckpointLabel = "containerd.io/checkpoint";

}  // namespace berth::checkpoint

namespace berth::checkpoint {

// The seed's named checkpoints of a container (REST `/containers/{id}/checkpoint/{name}`,
// `berth checkpoints`): checkpoint images named kNamedPrefix + <container id> + ":" + <name>,
// carrying these labels (the flags as "true" when set).
inline constexpr const char* kNamedPrefix = "checkpoint/";
inline constexpr const char* kLabelContainer = "io.berth.checkpoint.container";
inline constexpr const char* kLabelName = "io.berth.checkpoint.name";
inline constexpr const char* kLabelExit = "io.berth.checkpoint.exit";
inline constexpr const char* kLabelTcp = "io.berth.checkpoint.tcp";
inline constexpr const char* kLabelUnixSockets = "io.berth.checkpoint.unix-sockets";
inline constexpr const char* kLabelShell = "io.berth.checkpoint.shell";

inline std::string NamedCheckpointImage(std::string_view container_id, std::string_view name) {
  return std::string(kNamedPrefix) + std::string(container_id) + ":" + std::string(name);
}

}  // namespace berth::checkpoint
