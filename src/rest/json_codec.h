// The REST API v1's JSON, as containerd 0.0.x spoke it (api/v1/types.go): request bodies decoded
// with clear errors (wrong types, missing fields, nesting too deep) and answers encoded in the
// seed's shapes and key names. Pure functions, no daemon state: unit-tested and fuzzed alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace berth::rest {

// POST /containers/{id}
struct StartContainer {
  std::string bundle_path;
  std::string checkpoint;  // a checkpoint's name to restore from ("": a fresh start)
  std::string stdin_path, stdout_path, stderr_path;
  std::vector<std::string> labels;  // "key=value" (or "key")
  std::string runtime;              // "runc" (default), "crun", or a path to an OCI runtime
};

// The OCI process of PUT /containers/{id}/process, and every process /state lists.
struct Process {
  bool terminal = false;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> args, env;
  std::string cwd;
  uint32_t pid = 0;
};

// PATCH /containers/{id}: either or both.
struct UpdateContainer {
  std::string status;  // "paused" | "running" | ""
  int signal = 0;
};

// POST /containers/{id}/checkpoint/{name}
struct CheckpointOptions {
  bool exit = false, tcp = false, unix_sockets = false, shell = false;
};

// A checkpoint as GET /containers/{id}/checkpoint lists it (and POST answers it).
struct Checkpoint {
  std::string name;
  std::string timestamp;  // RFC 3339
  CheckpointOptions flags;
};

struct ContainerView {
  std::string id, bundle_path, status;
  std::vector<Process> processes;
  std::vector<std::string> labels;
};

struct Machine {
  int cpus = 0;
  int64_t memory = 0;
};

// A body parsed as one JSON object: InvalidArgument naming what is wrong (not JSON, not an
// object, nested deeper than 32 levels).
Result<nlohmann::json> ParseObject(const std::string& body);

Result<StartContainer> DecodeStartContainer(const std::string& body);
Result<Process> DecodeProcess(const std::string& body);
Result<UpdateContainer> DecodeUpdateContainer(const std::string& body);
// {"signal": N} with 0 < N < 65 (InvalidArgument otherwise).
Result<int> DecodeSignal(const std::string& body);
// An empty body is all defaults, as the seed.
Result<CheckpointOptions> DecodeCheckpointOptions(const std::string& body);

// The process part of an OCI runtime spec (config.json's "process") in the seed's shape.
Result<Process> ProcessFromSpec(const nlohmann::json& spec_process);
// An OCI runtime spec's process object for an exec (what the shim takes).
nlohmann::json ProcessToSpec(const Process& p);

nlohmann::json Encode(const Process& p);
nlohmann::json Encode(const ContainerView& c);
// The seed's shape (api/v1 types.go): name, timestamp, tcp, unixSockets and shell always;
// exit only when set (omitempty).
nlohmann::json Encode(const Checkpoint& c);
nlohmann::json EncodeCheckpoints(const std::vector<Checkpoint>& checkpoints);
nlohmann::json EncodeState(const std::vector<ContainerView>& containers, const Machine& machine);
// {"error": message}
std::string ErrorBody(std::string_view message);

}  // namespace berth::rest
