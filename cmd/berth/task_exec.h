// Exec'ing a process in a running task, as `ctr tasks exec` does it (the container's process
// with another command, terminal, cwd, env or user), attached or detached; shared by `berth
// tasks exec` and the seed's `berth containers exec`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "client/client.h"

namespace berth::cli {

struct ExecArgs {
  std::string id;
  std::vector<std::string> command;
  std::string exec_id;  // "": a random one
  std::string cwd;
  std::vector<std::string> env;  // appended to the container's
  std::optional<uint32_t> uid, gid;
  bool tty = false;
  bool detach = false;
};

// The process's exit code when attached; 0 once started when detached.
int RunExec(const GlobalOptions& global, const ExecArgs& args);

struct ContainerAndSpec {
  client::Container container;
  nlohmann::json spec;  // an object; empty when the container has none
};
// The container `id` and its spec JSON.
Result<ContainerAndSpec> GetContainerAndSpec(client::Client& client, const std::string& id);
// Whether the spec's process has a terminal.
bool SpecTerminal(const nlohmann::json& spec);

}  // namespace berth::cli
