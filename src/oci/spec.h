// The OCI runtime spec (opencontainers/runtime-spec 1.0.2), the part of it berth generates:
// plain structs, and their JSON as Go's encoding/json writes containerd's specs.Spec (same key
// order, the same fields left out when empty), so that a spec made here reads like one ctr makes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace berth::oci {

// The spec version containerd 1.6 writes.
inline constexpr const char* kSpecVersion = "1.0.2-dev";
// The type url of a spec packed in an Any (its value is the JSON), as containerd's typeurl.
inline constexpr const char* kSpecTypeUrl = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
// The type url of a process spec (Tasks.Exec).
inline constexpr const char* kProcessTypeUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/Process";
// PATH when the image sets no environment (containerd's defaultUnixEnv).
inline constexpr const char* kDefaultPathEnv =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Rlimit {
  std::string type;
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

// A device cgroup rule.
struct DeviceRule {
  bool allow = false;
  std::string type;  // "c", "b", "a" or "" (all)
  std::optional<int64_t> major, minor;
  std::string access;
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<int64_t> memory_limit;
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;
  std::optional<uint64_t> cpu_period;
};

struct Namespace {
  std::string type;  // pid, ipc, uts, mount, network, user, cgroup
  std::string path;  // "" for a new one
};

struct Linux {
  std::optional<Resources> resources;
  std::string cgroups_path;
  std::vector<Namespace> namespaces;
  std::vector<std::string> masked_paths, readonly_paths;
};

struct Spec {
  std::string oci_version = kSpecVersion;
  Process process;
  Root root;
  std::string hostname;
  std::vector<Mount> mounts;
  std::map<std::string, std::string> annotations;
  Linux linux;
};

// containerd's populateDefaultUnixSpec: what `ctr oci spec` prints (with `id` ""), the base of
// every container's spec. The cgroups path is "/<namespace>/<id>".
Spec DefaultUnixSpec(const std::string& namespace_name, const std::string& id);

// The device cgroup rules containerd's WithDefaultUnixDevices allows (null, random, full, tty,
// zero, urandom, console, pts, ptmx), appended after the deny-all rule.
std::vector<DeviceRule> DefaultUnixDeviceRules();

// The JSON, keys in the Go structs' order, empty optional fields left out.
nlohmann::ordered_json ToJson(const Spec& spec);
nlohmann::ordered_json ToJson(const Process& process);

}  // namespace berth::oci
