// Creating and running a container's task the way `ctr run` / `ctr tasks start` do: stdio
// fifos, Tasks.Create with the snapshot's mounts, Start, and (attached) Wait, the output
// drained, Delete.
#pragma once

#include <optional>
#include <string>

#include "berth/process_session.h"
#include "client/client.h"
#include "client/container_new.h"

namespace berth::cli {

struct TaskRunOptions {
  bool terminal = false;
  bool detach = false;  // leave it running; its fifos stay for `tasks attach`
  std::optional<client::Descriptor> checkpoint;  // restore the task from this criu tar
};

// Runs the task of `container`; attached, returns the process's exit code (the task deleted),
// detached 0 once it started. `session` is null when detached.
Result<int> RunTask(client::Client& client, const client::Container& container,
                    const TaskRunOptions& options, ProcessSession* session);

using client::DeleteContainerAndSnapshot;

}  // namespace berth::cli
