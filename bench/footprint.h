// A daemon's footprint, sampled from outside through /proc and the file system, for the soak
// (bench/soak.cc): what berthd holds (fds, threads, resident memory) and what it leaves on the
// host (mounts, cgroups, shim processes, children it did not reap, task bundles, runc state,
// snapshot dirs, the SQLite files). Two samples compared give the soak's before/after table and its verdict.
//
//   FootprintTarget t{.pid = pid, .root = root, .state = state, .namespace_name = "soak"};
//   Footprint before = TakeFootprint(t);
//   ... run ...
//   auto rows = CompareFootprints(before, TakeFootprint(t), {});
//   std::cout << FormatFootprintTable(rows);
//
// Linux only; reads nothing it could change. Plain functions, no state: call them from any
// thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace berth::bench {

struct FootprintTarget {
  pid_t pid = 0;                   // the daemon
  std::filesystem::path root;      // its --root (metadata.db, snapshots/)
  std::filesystem::path state;     // its --state (task bundles, runc/)
  std::string socket;              // its gRPC socket ("" : match the state dir only)
  std::string namespace_name;      // the containers' namespace: cgroups /<ns>/<id>
};

struct Footprint {
  bool alive = false;              // /proc/PID was there
  int64_t fds = -1;                // entries of /proc/PID/fd
  int64_t threads = -1;            // entries of /proc/PID/task
  int64_t rss_kib = -1;            // VmRSS
  std::map<std::string, int64_t> fd_kinds;  // "socket", "pipe", "anon_inode:[eventfd]", "file"...
  std::vector<std::string> mounts;          // mount points at or under root or state
  std::vector<std::string> cgroups;         // /sys/fs/cgroup/*/<ns> and the dirs just below
  std::vector<std::string> shims;           // "PID cmdline" of processes naming socket or state
  std::vector<std::string> children;        // "PID STATE cmdline" of the daemon's children
  std::vector<std::string> bundles;         // <state>/{io.containerd.runtime.v2.task,tasks}/<ns>/<id>
  std::vector<std::string> runc_dirs;       // <state>/runc/<ns>/<id>
  std::vector<std::string> snapshot_dirs;   // <root>/snapshots/<snapshotter>/snapshots/<id>
  int64_t db_bytes = 0;                     // <root>/metadata.db
  int64_t wal_bytes = 0;                    // metadata.db-wal
  int64_t shm_bytes = 0;                    // metadata.db-shm
  int64_t db_page_size = 4096;              // from the db header (the WAL's frame size)

  int64_t sqlite_bytes() const { return db_bytes + wal_bytes + shm_bytes; }
};

// Samples everything once. Processes that are this one or its ancestors (a `timeout` wrapper,
// the script) and the daemon itself are never counted as shims.
Footprint TakeFootprint(const FootprintTarget& target);

// How much growth is not a leak.
struct FootprintTolerance {
  int64_t threads = 2;              // gRPC's pools may settle a little above the warm-up's
  int64_t rss_slack_kib = 4096;
  int64_t db_slack_kib = 1024;
};

// SQLite's WAL is checkpointed every 1000 pages (the default wal_autocheckpoint; berth sets no
// other) and then reused from its start, never truncated (no journal_size_limit): the file grows
// once to about 1000 frames and stays. That growth, from the WAL size of `before` up to this cap,
// is not counted against db_slack_kib.
int64_t WalCapBytes(int64_t page_size);

struct FootprintRow {
  std::string metric;
  std::string before, after, delta;
  std::string limit;   // the rule, "" for a row shown for information
  bool ok = true;      // within the rule (always true without one)
};

// The table's rows: fds, threads, RSS, mounts, cgroups, shims, the daemon's children, bundle
// dirs, runc dirs, snapshot dirs, SQLite (total, checked; db and wal shown). Counts may shrink;
// none may grow beyond its rule (all the counts: not at all).
std::vector<FootprintRow> CompareFootprints(const Footprint& before, const Footprint& after,
                                            const FootprintTolerance& tolerance);
bool AllWithin(const std::vector<FootprintRow>& rows);

// metric | before | after | delta | limit | verdict, aligned, one line each.
std::string FormatFootprintTable(const std::vector<FootprintRow>& rows);

// What `after` has that `before` did not, one line each ("mount /x", "shim 123 ...",
// "fds +3 socket"): what to look at when a row is over its limit.
std::vector<std::string> FootprintGrowth(const Footprint& before, const Footprint& after);

}  // namespace berth::bench
