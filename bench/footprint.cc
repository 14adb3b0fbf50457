#include "footprint.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace berth::bench {
namespace {

namespace fs = std::filesystem;

// The whole of a (small, /proc) file; "" when it cannot be read.
std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The value of `Key:` in a /proc/PID/status text (first number), -1 when absent.
int64_t StatusField(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    int64_t value = -1;
    fields >> value;
    return fields ? value : -1;
  }
  return -1;
}

// This process and its ancestors up to init: never counted as shims (a `timeout` wrapper or the
// calling script may carry the daemon's paths on their command lines).
std::set<pid_t> SelfAndAncestors() {
  std::set<pid_t> out;
  pid_t pid = ::getpid();
  while (pid > 1 && out.insert(pid).second) {
    int64_t ppid = StatusField(ReadText(fs::path("/proc") / std::to_string(pid) / "status"), "PPid");
    if (ppid <= 0) break;
    pid = static_cast<pid_t>(ppid);
  }
  return out;
}

// Entries of `dir` (full paths, sorted); none when it cannot be listed.
std::vector<fs::path> Entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  // increment(ec), not ++: entries of /proc come and go while we read.
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsRealDir(const fs::path& p) {
  std::error_code ec;
  auto st = fs::symlink_status(p, ec);
  return !ec && fs::is_directory(st);
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool AtOrUnder(const std::string& path, const fs::path& dir) {
  const std::string d = dir.string();
  if (d.empty()) return false;
  return path == d || path.rfind(d + "/", 0) == 0;
}

std::vector<std::string> MountsUnder(pid_t pid, const std::vector<fs::path>& dirs) {
  std::string info = pid > 0 ? ReadText(fs::path("/proc") / std::to_string(pid) / "mountinfo") : "";
  if (info.empty()) info = ReadText("/proc/self/mountinfo");
  std::vector<std::string> out;
  std::istringstream in(info);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, mroot, point;
    fields >> id >> parent >> devno >> mroot >> point;
    point = Unescape(point);
    for (const auto& d : dirs) {
      if (AtOrUnder(point, d)) {
        out.push_back(point);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// runc puts a container of namespace ns in /<ns>/<id> of every hierarchy: each v1 controller
// (/sys/fs/cgroup/<controller>, symlinks such as cpu -> cpu,cpuacct skipped), the hybrid
// unified one (/sys/fs/cgroup/unified), or the root of a pure cgroup2 host. The namespace's
// parent stays after its last container (runc leaves it: tests/e2e/harness.cc
// RemoveNamespaceCgroups), and appears in a hierarchy mounted meanwhile (crun's hugetlb, by a
// test running beside): so only the containers' cgroups below it count.
std::vector<std::string> NamespaceCgroups(const std::string& ns) {
  std::vector<std::string> out;
  if (ns.empty()) return out;
  const fs::path cg = "/sys/fs/cgroup";
  std::vector<fs::path> bases;
  std::error_code ec;
  if (fs::exists(cg / "cgroup.controllers", ec)) {
    bases.push_back(cg / ns);
  } else {
    for (const auto& h : Entries(cg)) {
      if (IsRealDir(h)) bases.push_back(h / ns);
    }
  }
  for (const auto& base : bases) {
    if (!IsRealDir(base)) continue;
    for (const auto& sub : Entries(base)) {
      if (IsRealDir(sub)) out.push_back(sub.string());
    }
  }
  return out;
}

// One pass over /proc: the shims (processes naming the socket or the state dir) and the
// daemon's children ("PID STATE cmdline": zombies it did not reap, helpers still running).
void ScanProcesses(const FootprintTarget& t, Footprint* f) {
  const std::set<pid_t> skip = SelfAndAncestors();
  const std::string state = t.state.string();
  for (const auto& e : Entries("/proc")) {
    const std::string name = e.filename().string();
    if (!IsNumber(name)) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    if (pid == t.pid || skip.count(pid) != 0) continue;
    std::string cmd = ReadText(e / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    if (t.pid > 0) {
      // "pid (comm) S ppid ...": the command name may hold anything, but not after the last ')'.
      const std::string stat_line = ReadText(e / "stat");
      const size_t paren = stat_line.rfind(')');
      if (paren != std::string::npos) {
        std::istringstream fields(stat_line.substr(paren + 1));
        std::string proc_state;
        int64_t ppid = 0;
        fields >> proc_state >> ppid;
        if (fields && ppid == t.pid) f->children.push_back(name + " " + proc_state + " " + cmd);
      }
    }
    if (cmd.empty()) continue;  // a kernel thread, a zombie, or gone
    const bool names_socket = !t.socket.empty() && cmd.find(t.socket) != std::string::npos;
    const bool names_state = !state.empty() && cmd.find(state) != std::string::npos;
    if (names_socket || names_state) f->shims.push_back(name + " " + cmd);
  }
}

// Dirs two levels below `base` (<base>/<a>/<b>), e.g. bundles <tasks>/<ns>/<id>.
void Grandchildren(const fs::path& base, std::vector<std::string>* out) {
  for (const auto& a : Entries(base)) {
    if (!IsRealDir(a)) continue;
    for (const auto& b : Entries(a)) out->push_back(b.string());
  }
}

int64_t FileSize(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// The page size in the SQLite header (offset 16, big-endian; 1 means 65536).
int64_t DbPageSize(const fs::path& db) {
  std::ifstream in(db, std::ios::binary);
  std::array<char, 18> head{};
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) return 4096;
  const auto hi = static_cast<unsigned char>(head[16]);
  const auto lo = static_cast<unsigned char>(head[17]);
  const int64_t v = (static_cast<int64_t>(hi) << 8) | lo;
  if (v == 1) return 65536;
  if (v < 512) return 4096;
  return v;
}

// An fd's kind from its link: socket, pipe, anon_inode:[eventfd], /dev/null, or "file <dir>".
std::string FdKind(const fs::path& link) {
  std::error_code ec;
  const std::string target = fs::read_symlink(link, ec).string();
  if (ec) return "?";
  if (target.rfind("socket:", 0) == 0) return "socket";
  if (target.rfind("pipe:", 0) == 0) return "pipe";
  if (target.rfind("anon_inode:", 0) == 0) return target;
  if (target.rfind("/dev/", 0) == 0) return target;
  return "file in " + fs::path(target).parent_path().string();
}

std::string Signed(int64_t v) { return v >= 0 ? fmt::format("+{}", v) : fmt::format("{}", v); }
int64_t Kib(int64_t bytes) { return (bytes + 1023) / 1024; }

}  // namespace

int64_t WalCapBytes(int64_t page_size) {
  // 1000 frames before the auto-checkpoint, plus the frames of the transaction that crossed it.
  constexpr int64_t kFrames = 1000 + 100;
  return 32 + kFrames * (24 + page_size);
}

Footprint TakeFootprint(const FootprintTarget& t) {
  Footprint f;
  const fs::path proc = fs::path("/proc") / std::to_string(t.pid);
  const std::string status = t.pid > 0 ? ReadText(proc / "status") : "";
  f.alive = !status.empty();
  if (f.alive) {
    f.rss_kib = StatusField(status, "VmRSS");
    const auto fds = Entries(proc / "fd");
    f.fds = static_cast<int64_t>(fds.size());
    for (const auto& fd : fds) ++f.fd_kinds[FdKind(fd)];
    f.threads = static_cast<int64_t>(Entries(proc / "task").size());
  }
  f.mounts = MountsUnder(t.pid, {t.root, t.state});
  f.cgroups = NamespaceCgroups(t.namespace_name);
  ScanProcesses(t, &f);
  Grandchildren(t.state / "io.containerd.runtime.v2.task", &f.bundles);
  Grandchildren(t.state / "tasks", &f.bundles);  // an earlier berthd's place, still adopted
  Grandchildren(t.state / "runc", &f.runc_dirs);
  for (const auto& snapshotter : Entries(t.root / "snapshots")) {
    for (const auto& s : Entries(snapshotter / "snapshots")) f.snapshot_dirs.push_back(s.string());
  }
  const fs::path db = t.root / "metadata.db";
  f.db_bytes = FileSize(db);
  f.wal_bytes = FileSize(t.root / "metadata.db-wal");
  f.shm_bytes = FileSize(t.root / "metadata.db-shm");
  f.db_page_size = DbPageSize(db);
  return f;
}

std::vector<FootprintRow> CompareFootprints(const Footprint& b, const Footprint& a,
                                            const FootprintTolerance& tol) {
  std::vector<FootprintRow> rows;
  // A figure of the daemon's own (-1 when it was not there).
  auto daemon_row = [&](std::string metric, int64_t before, int64_t after, int64_t slack) {
    FootprintRow r{std::move(metric), "-", "-", "-",
                   slack == 0 ? std::string("<= before") : fmt::format("<= before+{}", slack), false};
    if (before >= 0) r.before = std::to_string(before);
    if (after >= 0) r.after = std::to_string(after);
    if (before >= 0 && after >= 0) {
      r.delta = Signed(after - before);
      r.ok = after <= before + slack;
    }
    rows.push_back(std::move(r));
  };
  // A count of things left on the host: may shrink, never grow.
  auto count_row = [&](std::string metric, size_t before, size_t after) {
    const auto nb = static_cast<int64_t>(before);
    const auto na = static_cast<int64_t>(after);
    rows.push_back({std::move(metric), std::to_string(nb), std::to_string(na), Signed(na - nb),
                    "<= before", na <= nb});
  };
  if (!a.alive) rows.push_back({"daemon running", b.alive ? "yes" : "no", "no", "", "running", false});
  daemon_row("open fds", b.fds, a.fds, 0);
  daemon_row("threads", b.threads, a.threads, tol.threads);
  daemon_row("RSS KiB", b.rss_kib, a.rss_kib, tol.rss_slack_kib);
  count_row("mounts under root, state", b.mounts.size(), a.mounts.size());
  count_row("container cgroups", b.cgroups.size(), a.cgroups.size());
  count_row("shim processes", b.shims.size(), a.shims.size());
  count_row("daemon's child processes", b.children.size(), a.children.size());
  count_row("task bundle dirs", b.bundles.size(), a.bundles.size());
  count_row("runc state dirs", b.runc_dirs.size(), a.runc_dirs.size());
  count_row("snapshot dirs", b.snapshot_dirs.size(), a.snapshot_dirs.size());
  // SQLite: the WAL's one-time growth up to its cap is not a leak (WalCapBytes).
  const int64_t wal_headroom = std::max<int64_t>(0, WalCapBytes(a.db_page_size) - b.wal_bytes);
  const int64_t allowed_kib = tol.db_slack_kib + Kib(wal_headroom);
  const int64_t sb = Kib(b.sqlite_bytes());
  const int64_t sa = Kib(a.sqlite_bytes());
  rows.push_back({"SQLite KiB (db+wal+shm)", std::to_string(sb), std::to_string(sa), Signed(sa - sb),
                  fmt::format("<= before+{}", allowed_kib), sa <= sb + allowed_kib});
  rows.push_back({"  metadata.db KiB", std::to_string(Kib(b.db_bytes)), std::to_string(Kib(a.db_bytes)),
                  Signed(Kib(a.db_bytes) - Kib(b.db_bytes)), "", true});
  rows.push_back({"  metadata.db-wal KiB", std::to_string(Kib(b.wal_bytes)),
                  std::to_string(Kib(a.wal_bytes)), Signed(Kib(a.wal_bytes) - Kib(b.wal_bytes)),
                  fmt::format("(cap ~{})", Kib(WalCapBytes(a.db_page_size))), true});
  return rows;
}

bool AllWithin(const std::vector<FootprintRow>& rows) {
  return std::all_of(rows.begin(), rows.end(), [](const FootprintRow& r) { return r.ok; });
}

std::string FormatFootprintTable(const std::vector<FootprintRow>& rows) {
  size_t w[5] = {std::string("metric").size(), std::string("before").size(),
                 std::string("after").size(), std::string("delta").size(), std::string("limit").size()};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.metric.size());
    w[1] = std::max(w[1], r.before.size());
    w[2] = std::max(w[2], r.after.size());
    w[3] = std::max(w[3], r.delta.size());
    w[4] = std::max(w[4], r.limit.size());
  }
  std::string out = fmt::format("{:<{}}  {:>{}}  {:>{}}  {:>{}}  {:<{}}  {}\n", "metric", w[0], "before",
                                w[1], "after", w[2], "delta", w[3], "limit", w[4], "verdict");
  for (const auto& r : rows) {
    const char* verdict = r.limit.empty() || r.limit[0] == '(' ? "" : (r.ok ? "ok" : "OVER");
    std::string line = fmt::format("{:<{}}  {:>{}}  {:>{}}  {:>{}}  {:<{}}  {}", r.metric, w[0], r.before,
                                   w[1], r.after, w[2], r.delta, w[3], r.limit, w[4], verdict);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::vector<std::string> FootprintGrowth(const Footprint& before, const Footprint& after) {
  std::vector<std::string> out;
  auto added = [&out](const char* what, const std::vector<std::string>& b, const std::vector<std::string>& a) {
    const std::set<std::string> old(b.begin(), b.end());
    for (const auto& x : a) {
      if (old.count(x) == 0) out.push_back(fmt::format("{} {}", what, x));
    }
  };
  for (const auto& [kind, n] : after.fd_kinds) {
    auto it = before.fd_kinds.find(kind);
    const int64_t was = it == before.fd_kinds.end() ? 0 : it->second;
    if (n > was) out.push_back(fmt::format("fds +{} {}", n - was, kind));
  }
  added("mount", before.mounts, after.mounts);
  added("cgroup", before.cgroups, after.cgroups);
  added("process", before.shims, after.shims);
  added("child", before.children, after.children);
  added("bundle", before.bundles, after.bundles);
  added("runc state", before.runc_dirs, after.runc_dirs);
  added("snapshot dir", before.snapshot_dirs, after.snapshot_dirs);
  return out;
}

}  // namespace berth::bench
