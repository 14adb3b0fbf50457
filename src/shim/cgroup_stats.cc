#include "shim/cgroup_stats.h"

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "common/files.h"

namespace berth::shim {
namespace v1 = io::containerd::cgroups::v1;
namespace v2 = io::containerd::cgroups::v2;
namespace {

// A single number; "max" (no limit) reads as 0 as containerd's cgroups package reads it.
uint64_t ReadUint(const std::string& path) {
  auto s = files::ReadSmall(path);
  if (!s.ok() || s->starts_with("max")) return 0;
  try {
    return std::stoull(*s);
  } catch (...) {
    return 0;
  }
}

// "key value" lines.
std::map<std::string, uint64_t> ReadKv(const std::string& path) {
  std::map<std::string, uint64_t> kv;
  auto text = files::ReadSmall(path);
  if (!text.ok()) return kv;
  std::istringstream in(*text);
  std::string k;
  uint64_t v;
  while (in >> k >> v) kv[k] = v;
  return kv;
}

bool IsDir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DeviceName(uint64_t major, uint64_t minor) {
  auto text = files::ReadSmall(fmt::format("/sys/dev/block/{}:{}/uevent", major, minor));
  if (!text.ok()) return "";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("DEVNAME=")) return "/dev/" + line.substr(8);
  }
  return "";
}

// blkio files: "MAJ:MIN Op Value" lines (and a trailing "Total N").
void ReadBlkio(const std::string& path, google::protobuf::RepeatedPtrField<v1::BlkIOEntry>* out) {
  auto text = files::ReadSmall(path);
  if (!text.ok()) return;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string dev, op;
    uint64_t value = 0;
    if (!(ls >> dev)) continue;
    auto colon = dev.find(':');
    if (colon == std::string::npos) continue;
    if (!(ls >> op)) continue;
    if (!(ls >> value)) {  // "MAJ:MIN value" files (sectors, time)
      try {
        value = std::stoull(op);
      } catch (...) {
        continue;
      }
      op.clear();
    }
    auto* e = out->Add();
    e->set_major(std::stoull(dev.substr(0, colon)));
    e->set_minor(std::stoull(dev.substr(colon + 1)));
    e->set_op(op);
    e->set_value(value);
    e->set_device(DeviceName(e->major(), e->minor()));
  }
}

}  // namespace

CgroupPaths ParseProcCgroup(const std::string& text, const std::string& root, bool unified) {
  CgroupPaths p;
  p.unified = unified;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (controllers.empty()) {
      if (unified) p.v2 = root + path;
      continue;
    }
    if (unified) continue;
    std::vector<std::string> names;
    std::istringstream cs(controllers);
    for (std::string n; std::getline(cs, n, ',');) names.push_back(n);
    for (const auto& n : names) {
      if (n.starts_with("name=")) continue;
      std::string dir = root + "/" + n;
      if (!IsDir(dir)) dir = root + "/" + controllers;
      p.v1[n] = dir + path;
    }
  }
  return p;
}

Result<CgroupPaths> CgroupOfPid(int pid, const std::string& root) {
  auto text = files::ReadSmall(fmt::format("/proc/{}/cgroup", pid));
  if (!text.ok()) return NotFound("cgroup of pid {}", pid);
  CgroupPaths p = ParseProcCgroup(*text, root, IsUnifiedCgroup(root));
  if (p.empty()) return NotFound("cgroup of pid {}", pid);
  return p;
}

Result<v1::Metrics> StatV1(const CgroupPaths& paths) {
  v1::Metrics m;
  auto dir = [&](const char* c) -> std::string {
    auto it = paths.v1.find(c);
    return it == paths.v1.end() || !IsDir(it->second) ? std::string() : it->second;
  };
  if (auto d = dir("pids"); !d.empty()) {
    m.mutable_pids()->set_current(ReadUint(d + "/pids.current"));
    m.mutable_pids()->set_limit(ReadUint(d + "/pids.max"));
  }
  if (auto d = dir("cpuacct"); !d.empty()) {
    auto* u = m.mutable_cpu()->mutable_usage();
    u->set_total(ReadUint(d + "/cpuacct.usage"));
    if (auto per = files::ReadSmall(d + "/cpuacct.usage_percpu"); per.ok()) {
      std::istringstream ps(*per);
      for (uint64_t v; ps >> v;) u->add_per_cpu(v);
    }
    // cpuacct.stat counts clock ticks.
    auto kv = ReadKv(d + "/cpuacct.stat");
    uint64_t hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    if (hz == 0) hz = 100;
    u->set_user(kv["user"] * 1000000000ULL / hz);
    u->set_kernel(kv["system"] * 1000000000ULL / hz);
  }
  if (auto d = dir("cpu"); !d.empty()) {
    auto kv = ReadKv(d + "/cpu.stat");
    auto* t = m.mutable_cpu()->mutable_throttling();
    t->set_periods(kv["nr_periods"]);
    t->set_throttled_periods(kv["nr_throttled"]);
    t->set_throttled_time(kv["throttled_time"]);
  }
  if (auto d = dir("memory"); !d.empty()) {
    auto kv = ReadKv(d + "/memory.stat");
    auto* s = m.mutable_memory();
    s->set_cache(kv["cache"]);
    s->set_rss(kv["rss"]);
    s->set_rss_huge(kv["rss_huge"]);
    s->set_mapped_file(kv["mapped_file"]);
    s->set_dirty(kv["dirty"]);
    s->set_writeback(kv["writeback"]);
    s->set_pg_pg_in(kv["pgpgin"]);
    s->set_pg_pg_out(kv["pgpgout"]);
    s->set_pg_fault(kv["pgfault"]);
    s->set_pg_maj_fault(kv["pgmajfault"]);
    s->set_inactive_anon(kv["inactive_anon"]);
    s->set_active_anon(kv["active_anon"]);
    s->set_inactive_file(kv["inactive_file"]);
    s->set_active_file(kv["active_file"]);
    s->set_unevictable(kv["unevictable"]);
    s->set_hierarchical_memory_limit(kv["hierarchical_memory_limit"]);
    s->set_hierarchical_swap_limit(kv["hierarchical_memsw_limit"]);
    s->set_total_cache(kv["total_cache"]);
    s->set_total_rss(kv["total_rss"]);
    s->set_total_rss_huge(kv["total_rss_huge"]);
    s->set_total_mapped_file(kv["total_mapped_file"]);
    s->set_total_dirty(kv["total_dirty"]);
    s->set_total_writeback(kv["total_writeback"]);
    s->set_total_pg_pg_in(kv["total_pgpgin"]);
    s->set_total_pg_pg_out(kv["total_pgpgout"]);
    s->set_total_pg_fault(kv["total_pgfault"]);
    s->set_total_pg_maj_fault(kv["total_pgmajfault"]);
    s->set_total_inactive_anon(kv["total_inactive_anon"]);
    s->set_total_active_anon(kv["total_active_anon"]);
    s->set_total_inactive_file(kv["total_inactive_file"]);
    s->set_total_active_file(kv["total_active_file"]);
    s->set_total_unevictable(kv["total_unevictable"]);
    struct Entry {
      const char* prefix;
      v1::MemoryEntry* e;
    };
    for (const Entry& en : {Entry{"memory.", s->mutable_usage()}, Entry{"memory.memsw.", s->mutable_swap()},
                            Entry{"memory.kmem.", s->mutable_kernel()},
                            Entry{"memory.kmem.tcp.", s->mutable_kernel_tcp()}}) {
      en.e->set_usage(ReadUint(d + "/" + en.prefix + "usage_in_bytes"));
      en.e->set_max(ReadUint(d + "/" + en.prefix + "max_usage_in_bytes"));
      en.e->set_failcnt(ReadUint(d + "/" + en.prefix + "failcnt"));
      en.e->set_limit(ReadUint(d + "/" + en.prefix + "limit_in_bytes"));
    }
    auto oc = ReadKv(d + "/memory.oom_control");
    m.mutable_memory_oom_control()->set_oom_kill_disable(oc["oom_kill_disable"]);
    m.mutable_memory_oom_control()->set_under_oom(oc["under_oom"]);
    m.mutable_memory_oom_control()->set_oom_kill(oc["oom_kill"]);
  }
  if (auto d = dir("blkio"); !d.empty()) {
    auto* b = m.mutable_blkio();
    // The throttle files are the ones every scheduler fills (CFQ's are gone from new kernels).
    ReadBlkio(d + "/blkio.throttle.io_service_bytes_recursive", b->mutable_io_service_bytes_recursive());
    ReadBlkio(d + "/blkio.throttle.io_serviced_recursive", b->mutable_io_serviced_recursive());
  }
  return m;
}

Result<v2::Metrics> StatV2(const CgroupPaths& paths) {
  const std::string& d = paths.v2;
  if (d.empty() || !IsDir(d)) return NotFound("cgroup does not exist");
  v2::Metrics m;
  m.mutable_pids()->set_current(ReadUint(d + "/pids.current"));
  m.mutable_pids()->set_limit(ReadUint(d + "/pids.max"));
  auto cpu = ReadKv(d + "/cpu.stat");
  auto* c = m.mutable_cpu();
  c->set_usage_usec(cpu["usage_usec"]);
  c->set_user_usec(cpu["user_usec"]);
  c->set_system_usec(cpu["system_usec"]);
  c->set_nr_periods(cpu["nr_periods"]);
  c->set_nr_throttled(cpu["nr_throttled"]);
  c->set_throttled_usec(cpu["throttled_usec"]);
  auto ms = ReadKv(d + "/memory.stat");
  auto* s = m.mutable_memory();
  s->set_anon(ms["anon"]);
  s->set_file(ms["file"]);
  s->set_kernel_stack(ms["kernel_stack"]);
  s->set_slab(ms["slab"]);
  s->set_sock(ms["sock"]);
  s->set_shmem(ms["shmem"]);
  s->set_file_mapped(ms["file_mapped"]);
  s->set_file_dirty(ms["file_dirty"]);
  s->set_file_writeback(ms["file_writeback"]);
  s->set_anon_thp(ms["anon_thp"]);
  s->set_inactive_anon(ms["inactive_anon"]);
  s->set_active_anon(ms["active_anon"]);
  s->set_inactive_file(ms["inactive_file"]);
  s->set_active_file(ms["active_file"]);
  s->set_unevictable(ms["unevictable"]);
  s->set_slab_reclaimable(ms["slab_reclaimable"]);
  s->set_slab_unreclaimable(ms["slab_unreclaimable"]);
  s->set_pgfault(ms["pgfault"]);
  s->set_pgmajfault(ms["pgmajfault"]);
  s->set_workingset_refault(ms["workingset_refault"]);
  s->set_workingset_activate(ms["workingset_activate"]);
  s->set_workingset_nodereclaim(ms["workingset_nodereclaim"]);
  s->set_pgrefill(ms["pgrefill"]);
  s->set_pgscan(ms["pgscan"]);
  s->set_pgsteal(ms["pgsteal"]);
  s->set_pgactivate(ms["pgactivate"]);
  s->set_pgdeactivate(ms["pgdeactivate"]);
  s->set_pglazyfree(ms["pglazyfree"]);
  s->set_pglazyfreed(ms["pglazyfreed"]);
  s->set_thp_fault_alloc(ms["thp_fault_alloc"]);
  s->set_thp_collapse_alloc(ms["thp_collapse_alloc"]);
  s->set_usage(ReadUint(d + "/memory.current"));
  s->set_usage_limit(ReadUint(d + "/memory.max"));
  s->set_swap_usage(ReadUint(d + "/memory.swap.current"));
  s->set_swap_limit(ReadUint(d + "/memory.swap.max"));
  auto ev = ReadKv(d + "/memory.events");
  auto* e = m.mutable_memory_events();
  e->set_low(ev["low"]);
  e->set_high(ev["high"]);
  e->set_max(ev["max"]);
  e->set_oom(ev["oom"]);
  e->set_oom_kill(ev["oom_kill"]);
  return m;
}

}  // namespace berth::shim
