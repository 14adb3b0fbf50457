// The registry options `berth pull`, `berth push` and `berth run` share (ctr's names):
// --plain-http, --skip-verify/-k, --tlscacert, --user/-u USER[:PASSWORD], and how to show
// progress; and the pull that `pull` and `run` both do.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "berth/cli.h"
#include "client/client.h"
#include "client/pull.h"
#include "remotes/registry.h"

namespace berth::cli {

struct RegistryFlags {
  bool plain_http = false;
  bool skip_verify = false;
  std::string tls_ca_cert;
  std::string user;
  std::string progress = "auto";  // auto | tty | plain | none
};

void AddRegistryFlags(CLI::App* cmd, RegistryFlags& flags);

// Registry options from the flags: credentials from --user for every host (asking for the
// password on the terminal when it has none), else from the docker config.json.
Result<remotes::RegistryOptions> MakeRegistryOptions(const RegistryFlags& flags);

struct PullFlags {
  RegistryFlags registry;
  std::string snapshotter = kDefaultSnapshotter;
  std::string platform;  // "" for the host's
  bool all_platforms = false;
  bool no_unpack = false;
  bool print_chain_id = false;
  int max_concurrent_downloads = 3;
  std::vector<std::string> labels;
};

// Pulls `ref` showing progress on `out` (bars on a terminal, lines otherwise, as
// flags.registry.progress says) and a summary line at the end.
Result<client::PullResult> PullWithProgress(client::Client& client, const std::string& ref,
                                            const PullFlags& flags, std::ostream& out);

// Whether `out` (std::cout or std::cerr) goes to a terminal, as `progress` ("auto") asks.
bool ProgressOnTerminal(const std::string& progress, std::ostream& out);
// The terminal's width in columns (80 when unknown).
int TerminalWidth(std::ostream& out);

}  // namespace berth::cli
