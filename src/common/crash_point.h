// Crash points: named places between the steps of a multi-step change (an fsync and a rename,
// a rename and a DB commit, a shim started and its task recorded) where crash-safety tests
// kill berthd the way a power cut or the OOM killer would, deterministically.
//
// Inactive unless the process starts with BERTH_CRASH_POINT in its environment:
//   BERTH_CRASH_POINT=<name>[@<n>]   the n-th pass (default: the first) through
//                                   CrashPoint("<name>") sends SIGKILL to this process,
//                                   after one line on stderr naming the point.
// containerd tests its own crash safety with failpoints the same way. When inactive a pass
// costs one atomic load.
//
// Thread-safe: may be passed from any thread.
#pragma once

#include <string_view>

namespace berth {

// The environment variable that arms a crash point.
inline constexpr const char* kCrashPointEnv = "BERTH_CRASH_POINT";

void CrashPoint(std::string_view name);

}  // namespace berth
