// A new container from an unpacked image, as ctr's `run` and `containers create` make one:
// the image's config gives the spec defaults (oci::GenerateSpec), a writable snapshot keyed by
// the container id is prepared on the image's chain id (under a temporary lease, so nothing is
// collected before the container record holds it), and the record names the runc shim v2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "berth/cli.h"
#include "client/client.h"
#include "client/container_new.h"
#include "client/container_spec.h"

namespace berth::cli {

struct ContainerFlags {
  std::string image;
  std::string id;
  std::vector<std::string> command;  // replaces the image's entrypoint + cmd when given
  std::vector<std::string> env;
  std::string env_file;
  std::string cwd;
  std::string user;
  std::vector<std::string> mounts;
  std::string runtime = client::kRuncV2Runtime;
  std::string runc_binary;
  std::string snapshotter = kDefaultSnapshotter;
  uint64_t memory_limit = 0;
  std::vector<std::string> labels;
  std::string hostname;
  bool tty = false;
  bool read_only = false;
  std::string platform;  // of the image's manifest, os/arch[/variant]; "" for the host's
};

// Adds the flags and the IMAGE ID positionals; the command is what follows them (the caller
// makes `cmd` a prefix command and takes cmd->remaining()).
void AddContainerFlags(CLI::App* cmd, ContainerFlags& flags);

// Creates the container (snapshot + record). NotFound "image X not found" when the image is
// not there, FailedPrecondition when it is not unpacked in the snapshotter. On failure nothing
// is left behind.
Result<client::Container> NewContainer(client::Client& client, const ContainerFlags& flags);

using client::kStopSignalLabel;

}  // namespace berth::cli
