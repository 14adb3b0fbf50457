// The "new task with stdio, wait" helper of containerd's client, for programs embedding the
// library: the container's task created with fresh stdio fifos whose output is copied to the
// caller's file descriptors (no stdin, no terminal), started, waited for, its output drained,
// and deleted. (berth's own `run` adds terminals, stdin, signals and detaching on top.)
#pragma once

#include <unistd.h>

#include <cstdint>

#include "client/client.h"

namespace berth::client {

// The process's exit status. On a failure after the task was created, the task is deleted.
Result<uint32_t> RunTaskToExit(Client& client, const Container& container, int out_fd = STDOUT_FILENO,
                               int err_fd = STDERR_FILENO);

}  // namespace berth::client
