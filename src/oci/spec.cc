#include "oci/spec.h"

#include <filesystem>

namespace berth::oci {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> DefaultCaps() {
  return {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",   "CAP_AUDIT_WRITE"};
}

std::vector<Mount> DefaultMounts() {
  return {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/run", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
  };
}

// Sets `key` only when the list is not empty (Go's omitempty).
template <typename T>
void SetNonEmpty(Json& out, const char* key, const T& value) {
  if (!value.empty()) out[key] = value;
}

Json CapabilitiesJson(const Capabilities& c) {
  Json out = Json::object();
  SetNonEmpty(out, "bounding", c.bounding);
  SetNonEmpty(out, "effective", c.effective);
  SetNonEmpty(out, "inheritable", c.inheritable);
  SetNonEmpty(out, "permitted", c.permitted);
  SetNonEmpty(out, "ambient", c.ambient);
  return out;
}

Json ResourcesJson(const Resources& r) {
  Json out = Json::object();
  if (!r.devices.empty()) {
    Json devices = Json::array();
    for (const auto& d : r.devices) {
      Json dev = {{"allow", d.allow}};
      if (!d.type.empty()) dev["type"] = d.type;
      if (d.major) dev["major"] = *d.major;
      if (d.minor) dev["minor"] = *d.minor;
      if (!d.access.empty()) dev["access"] = d.access;
      devices.push_back(std::move(dev));
    }
    out["devices"] = std::move(devices);
  }
  if (r.memory_limit) out["memory"] = {{"limit", *r.memory_limit}};
  if (r.cpu_shares || r.cpu_quota || r.cpu_period) {
    Json cpu = Json::object();
    if (r.cpu_shares) cpu["shares"] = *r.cpu_shares;
    if (r.cpu_quota) cpu["quota"] = *r.cpu_quota;
    if (r.cpu_period) cpu["period"] = *r.cpu_period;
    out["cpu"] = std::move(cpu);
  }
  return out;
}

Json LinuxJson(const Linux& l) {
  Json out = Json::object();
  if (l.resources) out["resources"] = ResourcesJson(*l.resources);
  if (!l.cgroups_path.empty()) out["cgroupsPath"] = l.cgroups_path;
  if (!l.namespaces.empty()) {
    Json namespaces = Json::array();
    for (const auto& ns : l.namespaces) {
      Json n = {{"type", ns.type}};
      if (!ns.path.empty()) n["path"] = ns.path;
      namespaces.push_back(std::move(n));
    }
    out["namespaces"] = std::move(namespaces);
  }
  SetNonEmpty(out, "maskedPaths", l.masked_paths);
  SetNonEmpty(out, "readonlyPaths", l.readonly_paths);
  return out;
}

}  // namespace

std::vector<DeviceRule> DefaultUnixDeviceRules() {
  auto rule = [](int64_t major, std::optional<int64_t> minor) {
    return DeviceRule{true, "c", major, minor, "rwm"};
  };
  return {rule(1, 3), rule(1, 8), rule(1, 7),          rule(5, 0), rule(1, 5),
          rule(1, 9), rule(5, 1), rule(136, std::nullopt), rule(5, 2)};
}

Spec DefaultUnixSpec(const std::string& namespace_name, const std::string& id) {
  Spec s;
  s.root.path = "rootfs";
  s.process.cwd = "/";
  s.process.no_new_privileges = true;
  s.process.capabilities = Capabilities{DefaultCaps(), DefaultCaps(), {}, DefaultCaps(), {}};
  s.process.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  s.linux.masked_paths = {"/proc/acpi",          "/proc/asound",      "/proc/kcore",
                          "/proc/keys",          "/proc/latency_stats", "/proc/timer_list",
                          "/proc/timer_stats",   "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"};
  s.linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                            "/proc/sysrq-trigger"};
  // filepath.Join("/", ns, id): clean, so an empty id leaves "/<ns>".
  s.linux.cgroups_path =
      (std::filesystem::path("/") / namespace_name / id).lexically_normal().string();
  while (s.linux.cgroups_path.size() > 1 && s.linux.cgroups_path.ends_with('/')) {
    s.linux.cgroups_path.pop_back();
  }
  s.linux.resources = Resources{};
  s.linux.resources->devices = {DeviceRule{false, "", std::nullopt, std::nullopt, "rwm"}};
  s.linux.namespaces = {{"pid", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"network", ""}};
  s.mounts = DefaultMounts();
  return s;
}

nlohmann::ordered_json ToJson(const Process& p) {
  Json out = Json::object();
  if (p.terminal) out["terminal"] = true;
  if (p.console_size) {
    out["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  }
  Json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  SetNonEmpty(user, "additionalGids", p.user.additional_gids);
  out["user"] = std::move(user);
  SetNonEmpty(out, "args", p.args);
  SetNonEmpty(out, "env", p.env);
  out["cwd"] = p.cwd;
  if (p.capabilities) out["capabilities"] = CapabilitiesJson(*p.capabilities);
  if (!p.rlimits.empty()) {
    Json rlimits = Json::array();
    for (const auto& r : p.rlimits) {
      rlimits.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    }
    out["rlimits"] = std::move(rlimits);
  }
  if (p.no_new_privileges) out["noNewPrivileges"] = true;
  return out;
}

nlohmann::ordered_json ToJson(const Spec& s) {
  Json out = Json::object();
  out["ociVersion"] = s.oci_version;
  out["process"] = ToJson(s.process);
  Json root = {{"path", s.root.path}};
  if (s.root.readonly) root["readonly"] = true;
  out["root"] = std::move(root);
  if (!s.hostname.empty()) out["hostname"] = s.hostname;
  if (!s.mounts.empty()) {
    Json mounts = Json::array();
    for (const auto& m : s.mounts) {
      Json j = {{"destination", m.destination}};
      if (!m.type.empty()) j["type"] = m.type;
      if (!m.source.empty()) j["source"] = m.source;
      SetNonEmpty(j, "options", m.options);
      mounts.push_back(std::move(j));
    }
    out["mounts"] = std::move(mounts);
  }
  if (!s.annotations.empty()) out["annotations"] = s.annotations;
  out["linux"] = LinuxJson(s.linux);
  return out;
}

}  // namespace berth::oci
