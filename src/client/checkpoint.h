// Checkpoint images, as containerd's client makes and reads them (container.Checkpoint with the
// WithCheckpoint* options, client.Restore with the WithRestore* options), so that berth, ctr and
// containerd's Go client share them: an OCI index in the content store whose manifests are the
// task's criu tar and spec (from Tasks.Checkpoint), the checkpoint and runtime options, the rw
// layer, and the base image's target; annotated with the image name, runtime and snapshotter.
//
//   CheckpointOptions o;  o.rw = true;
//   BERTH_ASSIGN_OR_RETURN(Image ck, CheckpointContainer(client, "c1", "ck:1", o));
//   BERTH_ASSIGN_OR_RETURN(Restored r, RestoreContainer(client, "c2", "ck:1", {.rw = true}));
//   // then CreateTask with .checkpoint = r.checkpoint, and StartTask
#pragma once

#include <optional>
#include <string>

#include "client/client.h"

namespace berth::client {

struct CheckpointOptions {
  bool task = true;    // criu's dump of the running task (WithCheckpointTask)
  bool rw = false;     // the container's rw layer as a diff (WithCheckpointRW)
  bool image = false;  // the base image's target in the index (WithCheckpointImage)
  // containerd.runc.v1.CheckpointOptions
  bool exit = false;  // the task is stopped after the dump
  bool tcp = false;
  bool unix_sockets = false;
  bool shell = false;  // a terminal (berth-shim sets it by itself for a TTY task)
  bool file_locks = true;
  labels::Labels labels;  // on the checkpoint image
};

// The task (if any) is paused while its checkpoint and rw layer are taken, then resumed (unless
// it exited). AlreadyExists when `ref` is taken; nothing is left behind on failure.
Result<Image> CheckpointContainer(Client& client, const std::string& id, const std::string& ref,
                                  const CheckpointOptions& options);

struct RestoreOptions {
  bool rw = false;  // apply the checkpoint's rw layer onto the new snapshot (WithRestoreRW)
};

struct Restored {
  Container container;
  std::optional<Descriptor> checkpoint;  // the criu tar, for CreateTask (WithTaskCheckpoint)
};

// A new container `id` from checkpoint image `ref`: the base image's snapshot (the image must be
// in the store, or its target inside the checkpoint), the checkpoint's spec and runtime.
Result<Restored> RestoreContainer(Client& client, const std::string& id, const std::string& ref,
                                  const RestoreOptions& options);

// The criu tar of checkpoint image `ref` (for CreateTask). NotFound when there is no such image,
// FailedPrecondition when it holds no task checkpoint.
Result<Descriptor> CheckpointCriuImage(Client& client, const std::string& ref);

}  // namespace berth::client
