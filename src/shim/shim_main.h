// The shim's three modes, as containerd's runtime v2 drives a shim binary:
//  - start  (cwd = bundle, TTRPC_ADDRESS in the env, runc Options Any on stdin): creates the
//    socket, re-executes itself in serve mode with the listener as fd 3, writes `address` and
//    `shim.pid` into the bundle, prints the address. A live shim already on that socket is
//    reused (its address printed).
//  - delete (cwd or -bundle = bundle): cleanup after a shim that died: `runtime delete --force`,
//    rootfs unmounted, a DeleteResponse (killed, now) printed.
//  - serve  (no action): the task service until Shutdown, idleness after the last Delete, or
//    SIGTERM/SIGINT.
#pragma once

#include "shim/flags.h"

namespace berth::shim {

// Returns the process exit code.
int RunStart(const ShimFlags& flags);
int RunDelete(const ShimFlags& flags);
int RunServe(const ShimFlags& flags);

int Main(int argc, char** argv);

}  // namespace berth::shim
