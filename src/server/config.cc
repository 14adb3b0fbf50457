#include "server/config.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/duration.h"
#include "common/identifiers.h"

namespace berth::server {
namespace {

// One TOML table being read: its keys are checked and read with their place in errors.
class Reader {
 public:
  Reader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  const std::string& where() const { return where_; }

  Status Get(std::string_view key, int64_t* out) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    auto v = n->value<int64_t>();
    if (!v || !n->is_integer()) return InvalidArgument("{}: {} must be an integer", where_, key);
    *out = *v;
    return Status::Ok();
  }
  Status Get(std::string_view key, bool* out) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_boolean()) return InvalidArgument("{}: {} must be true or false", where_, key);
    *out = *n->value<bool>();
    return Status::Ok();
  }
  Status Get(std::string_view key, std::string* out) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_string()) return InvalidArgument("{}: {} must be a string", where_, key);
    *out = *n->value<std::string>();
    return Status::Ok();
  }
  Status Get(std::string_view key, std::filesystem::path* out) const {
    std::string s;
    if (table_.get(key) == nullptr) return Status::Ok();
    BERTH_RETURN_IF_ERROR(Get(key, &s));
    *out = s;
    return Status::Ok();
  }
  Status Get(std::string_view key, std::vector<std::string>* out) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    const toml::array* a = n->as_array();
    if (a == nullptr) return InvalidArgument("{}: {} must be an array of strings", where_, key);
    out->clear();
    for (const auto& item : *a) {
      auto v = item.value<std::string>();
      if (!v || !item.is_string()) return InvalidArgument("{}: {} must be an array of strings", where_, key);
      out->push_back(*v);
    }
    return Status::Ok();
  }
  Status Get(std::string_view key, std::optional<int64_t>* out) const {
    if (table_.get(key) == nullptr) return Status::Ok();
    int64_t v = 0;
    BERTH_RETURN_IF_ERROR(Get(key, &v));
    *out = v;
    return Status::Ok();
  }

  // Every key must be one of `known`.
  Status OnlyKeys(const std::set<std::string_view>& known) const {
    for (const auto& [key, node] : table_) {
      if (!known.contains(key.str())) return InvalidArgument("{}: unknown key {:?}", where_, key.str());
    }
    return Status::Ok();
  }

  // The sub-table `name` (nullptr when absent).
  Result<const toml::table*> Section(std::string_view name) const {
    const toml::node* node = table_.get(name);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    const toml::table* t = node->as_table();
    if (t == nullptr) return InvalidArgument("{}: [{}] must be a table", where_, name);
    return t;
  }

  bool Has(std::string_view key) const { return table_.get(key) != nullptr; }
  // A value that is set to something other than its zero value.
  bool IsSet(std::string_view key) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) return false;
    if (auto s = n->value<std::string>(); s && n->is_string()) return !s->empty();
    if (auto b = n->value<bool>(); b && n->is_boolean()) return *b;
    if (auto i = n->value<int64_t>(); i && n->is_integer()) return *i != 0;
    if (const toml::array* a = n->as_array()) return !a->empty();
    if (const toml::table* t = n->as_table()) return !t->empty();
    return true;
  }

 private:
  const toml::table& table_;
  std::string where_;
};

// Each step reads one section into the config.
using Step = Status (*)(const Reader&, Config&);

Status ReadGrpc(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"address", "uid", "gid", "max_recv_message_size", "max_send_message_size",
                                    "tcp_address", "tcp_tls_ca", "tcp_tls_cert", "tcp_tls_key"}));
  BERTH_RETURN_IF_ERROR(r.Get("address", &c.address));
  BERTH_RETURN_IF_ERROR(r.Get("uid", &c.grpc_uid));
  BERTH_RETURN_IF_ERROR(r.Get("gid", &c.grpc_gid));
  BERTH_RETURN_IF_ERROR(r.Get("max_recv_message_size", &c.max_recv_message_size));
  BERTH_RETURN_IF_ERROR(r.Get("max_send_message_size", &c.max_send_message_size));
  for (const char* key : {"tcp_address", "tcp_tls_ca", "tcp_tls_cert", "tcp_tls_key"}) {
    std::string v;
    BERTH_RETURN_IF_ERROR(r.Get(key, &v));
    if (!v.empty()) c.notes.push_back(fmt::format("{}: {} ignored: berthd serves gRPC on its unix socket only", r.where(), key));
  }
  return Status::Ok();
}

Status ReadTtrpc(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"address", "uid", "gid"}));
  BERTH_RETURN_IF_ERROR(r.Get("address", &c.ttrpc_address));
  BERTH_RETURN_IF_ERROR(r.Get("uid", &c.ttrpc_uid));
  return r.Get("gid", &c.ttrpc_gid);
}

Status ReadDebug(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"level", "address", "uid", "gid", "format"}));
  std::string level;
  BERTH_RETURN_IF_ERROR(r.Get("level", &level));
  if (!level.empty()) c.log_level = level;  // "" (containerd's default file) leaves the default
  BERTH_RETURN_IF_ERROR(r.Get("address", &c.debug_address));
  std::string format;
  BERTH_RETURN_IF_ERROR(r.Get("format", &format));
  if (!format.empty() && format != "text") {
    c.notes.push_back(fmt::format("{}: format {:?} ignored: berthd logs logfmt text", r.where(), format));
  }
  BERTH_RETURN_IF_ERROR(r.Get("uid", &c.debug_uid));
  return r.Get("gid", &c.debug_gid);
}

Status ReadMetrics(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"address", "grpc_histogram"}));
  BERTH_RETURN_IF_ERROR(r.Get("grpc_histogram", &c.metrics_grpc_histogram));
  return r.Get("address", &c.metrics_address);
}

Status ReadRest(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"address", "uid", "gid"}));
  BERTH_RETURN_IF_ERROR(r.Get("uid", &c.rest_uid));
  BERTH_RETURN_IF_ERROR(r.Get("gid", &c.rest_gid));
  return r.Get("address", &c.rest_address);
}

Status ReadCgroup(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"path"}));
  return r.Get("path", &c.cgroup_path);
}

Status ReadRuntime(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"shim"}));
  return r.Get("shim", &c.runc_shim);
}

// containerd 1.6's legacy runtime: served by the runc shim, its keys set the runc defaults.
Status ReadLinuxV1(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"shim", "runtime", "runtime_root", "no_shim", "shim_debug"}));
  std::string runtime, root, shim;
  BERTH_RETURN_IF_ERROR(r.Get("runtime", &runtime));
  BERTH_RETURN_IF_ERROR(r.Get("runtime_root", &root));
  BERTH_RETURN_IF_ERROR(r.Get("shim_debug", &c.shim_debug));
  BERTH_RETURN_IF_ERROR(r.Get("shim", &shim));
  bool no_shim = false;
  BERTH_RETURN_IF_ERROR(r.Get("no_shim", &no_shim));
  if (!runtime.empty() && runtime != "runc") c.linux_v1.binary_name = runtime;
  if (!root.empty()) c.linux_v1.root = root;
  if (!shim.empty() && shim != "containerd-shim") {
    c.notes.push_back(fmt::format("{}: shim {:?} not used: the runc shim serves this runtime", r.where(), shim));
  }
  if (no_shim) c.notes.push_back(fmt::format("{}: no_shim ignored: every task has a shim", r.where()));
  return Status::Ok();
}

// Defaults of containerd.runc.v1.Options, with the names CRI's runtime options use.
Status ReadRuncV2(const Reader& r, Config& c) {
  BERTH_RETURN_IF_ERROR(r.OnlyKeys({"BinaryName", "Root", "SystemdCgroup", "ShimCgroup", "NoPivotRoot",
                                    "NoNewKeyring", "CriuPath"}));
  BERTH_RETURN_IF_ERROR(r.Get("BinaryName", &c.runc.binary_name));
  BERTH_RETURN_IF_ERROR(r.Get("Root", &c.runc.root));
  BERTH_RETURN_IF_ERROR(r.Get("SystemdCgroup", &c.runc.systemd_cgroup));
  BERTH_RETURN_IF_ERROR(r.Get("ShimCgroup", &c.runc.shim_cgroup));
  BERTH_RETURN_IF_ERROR(r.Get("NoPivotRoot", &c.runc.no_pivot_root));
  BERTH_RETURN_IF_ERROR(r.Get("NoNewKeyring", &c.runc.no_new_keyring));
  return r.Get("CriuPath", &c.runc.criu_path);
}

// [plugins]: the sections berth applies, and a note naming each one it has no counterpart for.
Status ReadPlugins(const toml::table& plugins, std::string_view origin, bool v1_names, Config& c) {
  static const std::map<std::string_view, Step> kApplied = {
      {"io.containerd.runtime.v1.linux", ReadLinuxV1},
      {"io.containerd.runc.v2", ReadRuncV2},
  };
  // Sections of plugins berth has, but whose settings it does not take (its own defaults hold).
  static const std::set<std::string_view> kOwnDefaults = {
      "io.containerd.runtime.v2.task", "io.containerd.gc.v1.scheduler", "io.containerd.metadata.v1.bolt",
      "io.containerd.snapshotter.v1.overlayfs", "io.containerd.snapshotter.v1.native",
      "io.containerd.service.v1.diff-service", "io.containerd.grpc.v1.introspection"};
  for (const auto& [key, node] : plugins) {
    std::string name(key.str());
    if (v1_names && name == "linux") name = "io.containerd.runtime.v1.linux";  // version 1 files use plugin ids
    const toml::table* t = node.as_table();
    std::string where = fmt::format("{}: [plugins.{:?}]", origin, std::string(key.str()));
    if (t == nullptr) return InvalidArgument("{} must be a table", where);
    if (auto it = kApplied.find(name); it != kApplied.end()) {
      BERTH_RETURN_IF_ERROR(it->second(Reader(*t, where), c));
    } else if (kOwnDefaults.contains(name)) {
      if (!t->empty()) c.notes.push_back(fmt::format("{} ignored: berth uses its own settings for this plugin", where));
    } else {
      c.notes.push_back(fmt::format("{} ignored: berth has no such plugin", where));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin, Config base) {
  toml::table root;
  try {
    // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& err) {
    return InvalidArgument("{}:{}:{}: {}", origin, err.source().begin.line,
                           err.source().begin.column, err.description());
  }
  Config c = std::move(base);
  Reader top(root, std::string(origin));
  BERTH_RETURN_IF_ERROR(top.OnlyKeys({
      "version", "root", "state", "instance_id", "oom_score", "required_plugins", "grpc", "ttrpc", "debug",
      "metrics", "cgroup", "runtime", "plugins", "rest", "concurrency", "metrics_interval", "oom_notify",
      // containerd's, accepted and not applied (noted below when set)
      "temp", "plugin_dir", "disabled_plugins", "imports", "timeouts", "stream_processors", "proxy_plugins"}));
  int64_t version = 1;
  BERTH_RETURN_IF_ERROR(top.Get("version", &version));
  if (version != 1 && version != 2) return InvalidArgument("{}: version must be 1 or 2, not {}", origin, version);
  BERTH_RETURN_IF_ERROR(top.Get("root", &c.root));
  BERTH_RETURN_IF_ERROR(top.Get("state", &c.state));
  BERTH_RETURN_IF_ERROR(top.Get("instance_id", &c.instance_id));
  std::optional<int64_t> oom;
  BERTH_RETURN_IF_ERROR(top.Get("oom_score", &oom));
  if (oom && *oom != 0) c.oom_score = oom;  // 0 leaves the score alone, as containerd
  BERTH_RETURN_IF_ERROR(top.Get("required_plugins", &c.required_plugins));
  BERTH_RETURN_IF_ERROR(top.Get("concurrency", &c.concurrency));
  BERTH_RETURN_IF_ERROR(top.Get("oom_notify", &c.oom_notify));
  std::string interval;
  BERTH_RETURN_IF_ERROR(top.Get("metrics_interval", &interval));
  if (!interval.empty()) {
    auto parsed = ParseDuration(interval);
    if (!parsed.ok()) return InvalidArgument("{}: metrics_interval {:?} is not a duration", origin, interval);
    c.metrics_interval = *parsed;
  }
  for (const char* key : {"temp", "plugin_dir", "disabled_plugins", "imports", "timeouts", "stream_processors",
                          "proxy_plugins"}) {
    if (top.IsSet(key)) c.notes.push_back(fmt::format("{}: {} ignored: berth has no counterpart", origin, key));
  }

  static const std::pair<const char*, Step> kSections[] = {
      {"grpc", ReadGrpc}, {"ttrpc", ReadTtrpc}, {"debug", ReadDebug}, {"metrics", ReadMetrics},
      {"cgroup", ReadCgroup}, {"runtime", ReadRuntime}, {"rest", ReadRest}};
  for (const auto& [name, step] : kSections) {
    BERTH_ASSIGN_OR_RETURN(const toml::table* t, top.Section(name));
    if (t != nullptr) BERTH_RETURN_IF_ERROR(step(Reader(*t, fmt::format("{}: [{}]", origin, name)), c));
  }
  BERTH_ASSIGN_OR_RETURN(const toml::table* plugins, top.Section("plugins"));
  if (plugins != nullptr) BERTH_RETURN_IF_ERROR(ReadPlugins(*plugins, origin, version == 1, c));
  return c;
}

Result<Config> LoadConfigFile(const std::filesystem::path& path, Config base) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("config file {}", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(fmt::format("open {}", path.string()), errno);
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path.string(), std::move(base));
}

Status Validate(Config& c) {
  namespace fs = std::filesystem;
  auto absolute = [](fs::path& p, std::string_view what) -> Status {
    if (p.empty()) return InvalidArgument("{} must not be empty", what);
    p = fs::absolute(p).lexically_normal();
    return Status::Ok();
  };
  auto socket = [&](fs::path& p, std::string_view what) -> Status {
    std::string addr = p.string();
    if (addr.starts_with("unix://")) p = addr.substr(7);
    BERTH_RETURN_IF_ERROR(absolute(p, what));
    // sockaddr_un.sun_path holds 108 bytes including the terminator.
    if (p.string().size() > 107) {
      return InvalidArgument("{} {} is longer than a unix socket path may be (107 bytes)", what, p.string());
    }
    return Status::Ok();
  };
  BERTH_RETURN_IF_ERROR(absolute(c.root, "root"));
  BERTH_RETURN_IF_ERROR(absolute(c.state, "state"));
  BERTH_RETURN_IF_ERROR(socket(c.address, "grpc.address"));
  if (!c.ttrpc_address.empty()) BERTH_RETURN_IF_ERROR(socket(c.ttrpc_address, "ttrpc.address"));
  if (c.root == c.state) return InvalidArgument("root and state must be different directories");
  if (c.max_recv_message_size <= 0 || c.max_send_message_size <= 0 ||
      c.max_recv_message_size > INT32_MAX || c.max_send_message_size > INT32_MAX) {
    return InvalidArgument("grpc message sizes must be between 1 and {}", INT32_MAX);
  }
  if (!c.debug_address.empty() && c.debug_address.front() == '/') {
    std::filesystem::path debug = c.debug_address;
    BERTH_RETURN_IF_ERROR(socket(debug, "debug.address"));
    c.debug_address = debug.string();
  }
  if (!c.rest_address.empty() && c.rest_address.front() == '/') {
    std::filesystem::path rest = c.rest_address;
    BERTH_RETURN_IF_ERROR(socket(rest, "rest.address"));
    c.rest_address = rest.string();
  }
  if (c.concurrency < 0 || c.concurrency > 100000) {
    return InvalidArgument("concurrency {} must be between 0 (unbounded) and 100000", c.concurrency);
  }
  if (c.metrics_interval.count() < 0) return InvalidArgument("metrics_interval must not be negative");
  for (int64_t id : {c.grpc_uid, c.grpc_gid, c.ttrpc_uid, c.ttrpc_gid, c.debug_uid, c.debug_gid, c.rest_uid,
                     c.rest_gid}) {
    if (id < 0 || id > UINT32_MAX - 1) return InvalidArgument("uid/gid {} out of range", id);
  }
  if (c.oom_score && (*c.oom_score < -1000 || *c.oom_score > 1000)) {
    return InvalidArgument("oom_score {} must be between -1000 and 1000", *c.oom_score);
  }
  if (!c.cgroup_path.empty() && c.cgroup_path.front() != '/') {
    return InvalidArgument("cgroup.path {:?} must be absolute", c.cgroup_path);
  }
  BERTH_RETURN_IF_ERROR(identifiers::Validate(c.instance_id).Wrap("instance_id"));
  return Status::Ok();
}

std::string ToToml(const Config& c) {
  toml::array required;
  for (const auto& p : c.required_plugins) required.push_back(p);
  toml::table out{
      {"version", 2},
      {"root", c.root.string()},
      {"state", c.state.string()},
      {"oom_score", c.oom_score.value_or(0)},
      {"instance_id", c.instance_id},
      {"concurrency", c.concurrency},
      {"metrics_interval", FormatDuration(c.metrics_interval)},
      {"oom_notify", c.oom_notify},
      {"rest", toml::table{{"address", c.rest_address}, {"uid", c.rest_uid}, {"gid", c.rest_gid}}},
      {"required_plugins", required},
      {"grpc", toml::table{{"address", c.address.string()},
                           {"uid", c.grpc_uid},
                           {"gid", c.grpc_gid},
                           {"max_recv_message_size", c.max_recv_message_size},
                           {"max_send_message_size", c.max_send_message_size}}},
      {"ttrpc", toml::table{{"address", c.ttrpc_address.string()}, {"uid", c.ttrpc_uid}, {"gid", c.ttrpc_gid}}},
      {"debug", toml::table{{"level", c.log_level}, {"address", c.debug_address}, {"uid", c.debug_uid},
                            {"gid", c.debug_gid}}},
      {"metrics", toml::table{{"address", c.metrics_address}, {"grpc_histogram", c.metrics_grpc_histogram}}},
      {"cgroup", toml::table{{"path", c.cgroup_path}}},
      {"runtime", toml::table{{"shim", c.runc_shim}}},
      {"plugins",
       toml::table{
           {"io.containerd.runtime.v1.linux", toml::table{{"runtime", c.linux_v1.binary_name},
                                                          {"runtime_root", c.linux_v1.root},
                                                          {"shim_debug", c.shim_debug}}},
           {"io.containerd.runc.v2", toml::table{{"BinaryName", c.runc.binary_name},
                                                 {"Root", c.runc.root},
                                                 {"SystemdCgroup", c.runc.systemd_cgroup},
                                                 {"ShimCgroup", c.runc.shim_cgroup},
                                                 {"NoPivotRoot", c.runc.no_pivot_root},
                                                 {"NoNewKeyring", c.runc.no_new_keyring},
                                                 {"CriuPath", c.runc.criu_path}}}}},
  };
  std::ostringstream ss;
  ss << out << "\n";
  return ss.str();
}

}  // namespace berth::server
