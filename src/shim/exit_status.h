// How a wait(2) status becomes the exit status containerd reports: the exit code, or
// 128 + the signal number for a process killed by a signal (as runc's reaper does).
#pragma once

#include <cstdint>

namespace berth::shim {

uint32_t ExitStatusFromWait(int wait_status);

// What `delete` reports for a shim that died with its task: killed (128 + SIGKILL).
inline constexpr uint32_t kKilledExitStatus = 128 + 9;

}  // namespace berth::shim
