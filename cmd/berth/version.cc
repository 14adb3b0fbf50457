// berth version: the client's version and the server's, as `ctr version` prints them.
#include <iostream>

#include "berth/cli.h"

namespace berth::cli {
namespace {

int RunVersion(const GlobalOptions& global) {
  std::cout << "Client:\n"
            << "  Version:  " << BERTH_VERSION << "\n"
            << "  Revision: " << BERTH_REVISION << "\n"
            << "\n"
            << std::flush;
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto version = client->Version();
  if (!version.ok()) return Fail(version.status());
  std::cout << "Server:\n"
            << "  Version:  " << version->version << "\n"
            << "  Revision: " << version->revision << "\n"
            << std::flush;
  auto uuid = client->ServerUuid();
  if (!uuid.ok()) return Fail(uuid.status());
  std::cout << "  UUID: " << *uuid << std::endl;
  if (version->version != BERTH_VERSION) std::cerr << "WARNING: version mismatch" << std::endl;
  if (version->revision != BERTH_REVISION) std::cerr << "WARNING: revision mismatch" << std::endl;
  return 0;
}

}  // namespace

void AddVersionCommand(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand("version", "Print the client and server versions");
  cmd->callback([&cli] { cli.action = [&cli] { return RunVersion(cli.global); }; });
}

}  // namespace berth::cli
