// containerd's [debug] address serves Go's expvar at /debug/vars; berthd's counterpart is a JSON
// snapshot of the daemon process read from /proc: command line, memory, threads, open fds,
// uptime. (There is no Go runtime to profile, so no /debug/pprof.)
#pragma once

#include <string>

namespace berth::server {

// The JSON object, e.g. {"cmdline":[...],"pid":1,"memstats":{"rss_bytes":...},...}.
std::string DebugVarsJson();

}  // namespace berth::server
