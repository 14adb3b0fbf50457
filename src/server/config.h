// berthd's configuration: defaults, then /etc/berth/config.toml (or --config), then flags.
//
//   root = "/var/lib/berth"          # persistent: metadata.db, content, snapshots
//   state = "/run/berth"             # volatile: sockets, bundles, fifos
//   instance_id = "berth"            # names this daemon in logs
//   [grpc]
//   address = "/run/berth/berth.sock"
//   max_recv_message_size = 16777216
//   max_send_message_size = 16777216
//   [runtime]
//   shim = "berth-shim"              # serves io.containerd.runc.v1/v2; e.g. containerd-shim-runc-v2
//   [debug]
//   level = "info"
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace berth::server {

inline constexpr const char* kDefaultConfigPath = "/etc/berth/config.toml";

struct Config {
  std::filesystem::path root = "/var/lib/berth";
  std::filesystem::path state = "/run/berth";
  std::string instance_id = "berth";
  std::filesystem::path address = "/run/berth/berth.sock";
  int64_t max_recv_message_size = 16 << 20;
  int64_t max_send_message_size = 16 << 20;
  std::string log_level = "info";
  // The shim binary for the runc runtime names; empty: berth-shim.
  std::string runc_shim;
};

// Reads a TOML file over `base`. Unknown keys and wrong types are InvalidArgument naming
// the key, so a typo never goes silently unapplied. A missing file is NotFound.
Result<Config> LoadConfigFile(const std::filesystem::path& path, Config base = {});
// The same from text (tests); `origin` names the source in errors.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin, Config base = {});

// Paths made absolute, values in range; InvalidArgument otherwise.
Status Validate(Config& config);

}  // namespace berth::server
