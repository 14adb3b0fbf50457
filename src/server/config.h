// berthd's configuration: defaults, then /etc/berth/config.toml (or --config), then flags.
// The file is berth's own keys or containerd 1.6's config.toml (version 2, or 1 without
// `version`), so `berthd --config /etc/containerd/config.toml` is a drop-in swap:
//
//   version = 2                      # 1 or 2 (containerd's); berth's keys are the same
//   root = "/var/lib/berth"          # persistent: metadata.db, content, snapshots
//   state = "/run/berth"             # volatile: sockets, bundles, fifos
//   oom_score = -999                 # berthd's oom_score_adj
//   instance_id = "berth"            # berth only: names this daemon in logs
//   required_plugins = []            # start fails unless berthd provides each
//   concurrency = 10                 # berth only (the seed's flag): task operations at once; 0 = unbounded
//   metrics_interval = "1m"          # berth only: the seed's telemetry dump in the log; "0" = off
//   oom_notify = true                # berth only: publish /tasks/oom events
//   [grpc]    address, uid, gid, max_recv_message_size, max_send_message_size
//   [ttrpc]   address (default <grpc.address>.ttrpc: where shims publish events), uid, gid
//   [debug]   level, address (unix socket path or host:port serving /debug/vars), uid, gid, format
//   [metrics] address (Prometheus text at http://ADDRESS/v1/metrics), grpc_histogram
//   [rest]    address (berth only: the REST API v1 of containerd 0.0.x; "/path" or host:port,
//             ":port" = loopback), uid, gid
//   [cgroup]  path                   # berthd moves itself into this cgroup at start
//   [runtime] shim                   # berth only: the shim for the runc runtime names
//   [plugins."io.containerd.runtime.v1.linux"]  runtime, runtime_root, shim_debug (shim, no_shim)
//   [plugins."io.containerd.runc.v2"]  BinaryName, Root, SystemdCgroup, ShimCgroup, NoPivotRoot,
//                                      NoNewKeyring, CriuPath: defaults of the runc options
// Keys berth knows are checked strictly (unknown key or wrong type: InvalidArgument naming it).
// containerd's sections berth has no counterpart for (other plugins such as CRI, timeouts,
// stream and proxy plugins, plugin_dir, temp, disabled_plugins, imports) are accepted and
// listed in `notes`, which berthd logs once at start.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::server {

inline constexpr const char* kDefaultConfigPath = "/etc/berth/config.toml";

// Defaults for the runc shim's options (containerd.runc.v1.Options) where a client sets none.
struct RuncDefaults {
  std::string binary_name;  // "" = runc
  std::string root;         // "" = <state>/runc
  std::string shim_cgroup;
  std::string criu_path;
  bool systemd_cgroup = false;
  bool no_pivot_root = false;
  bool no_new_keyring = false;
};

struct Config {
  std::filesystem::path root = "/var/lib/berth";
  std::filesystem::path state = "/run/berth";
  std::string instance_id = "berth";
  std::filesystem::path address = "/run/berth/berth.sock";
  int64_t grpc_uid = 0, grpc_gid = 0;  // owner of the socket
  int64_t max_recv_message_size = 16 << 20;
  int64_t max_send_message_size = 16 << 20;
  std::filesystem::path ttrpc_address;  // "" = <address>.ttrpc
  int64_t ttrpc_uid = 0, ttrpc_gid = 0;
  std::string log_level = "info";
  std::string debug_address;    // "/path" or host:port serving /debug/vars; "" = off
  int64_t debug_uid = 0, debug_gid = 0;  // owner of a debug unix socket
  std::string metrics_address;  // host:port serving /v1/metrics; "" = off
  bool metrics_grpc_histogram = false;  // grpc_server_handling_seconds too
  std::string rest_address;     // "/path" or host:port serving the REST API v1; "" = off
  int64_t rest_uid = 0, rest_gid = 0;
  int64_t concurrency = 10;     // create/start/delete/exec at once (the rest queue); 0 = unbounded
  std::chrono::nanoseconds metrics_interval = std::chrono::minutes(1);  // the seed's dump; 0 = off
  bool oom_notify = true;       // forward the shims' /tasks/oom events
  std::string cgroup_path;      // "" = stay where started
  std::optional<int64_t> oom_score;
  std::vector<std::string> required_plugins;  // "type.id" as introspection lists them
  // The shim binary for the runc runtime names; empty: berth-shim.
  std::string runc_shim;
  bool shim_debug = false;
  RuncDefaults runc;      // every runc runtime name
  RuncDefaults linux_v1;  // [plugins."io.containerd.runtime.v1.linux"]: that runtime's tasks only
  // What the file said that berth does not apply (logged at start, once each).
  std::vector<std::string> notes;
};

// Reads a TOML file over `base`. A missing file is NotFound.
Result<Config> LoadConfigFile(const std::filesystem::path& path, Config base = {});
// The same from text (tests); `origin` names the source in errors.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin, Config base = {});

// Paths made absolute, values in range; InvalidArgument otherwise.
Status Validate(Config& config);

// The configuration as a TOML file that ParseConfig reads back (`berthd config dump|default`).
std::string ToToml(const Config& config);

}  // namespace berth::server
