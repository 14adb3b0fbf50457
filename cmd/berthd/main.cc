// berthd: the berth daemon. Serves containerd's gRPC API on a unix socket.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <systemd/sd-daemon.h>

#include "common/logging.h"
#include "server/config.h"
#include "server/server.h"
#include "oci_hook.h"

namespace {

int Fail(const berth::Status& st) {
  std::fprintf(stderr, "berthd: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using berth::server::Config;
  // `berthd oci-hook -- CMD ARGS...` takes everything after it as is (no flag parsing).
  if (argc >= 2 && std::string_view(argv[1]) == "oci-hook") {
    return berthd::RunOciHook(std::vector<std::string>(argv + 2, argv + argc));
  }
  CLI::App app{"berthd: a container daemon that speaks containerd's API"};
  app.set_version_flag("--version,-v", std::string("berthd ") + BERTH_VERSION + " " + BERTH_REVISION);
  std::string config_path;
  std::optional<std::string> root, state, address, log_level, instance_id;
  bool debug = false;
  app.add_option("--config,-c", config_path,
                 std::string("config file (TOML); default ") + berth::server::kDefaultConfigPath + " if present");
  app.add_option("--root", root, "persistent state directory (default /var/lib/berth)");
  app.add_option("--state", state, "volatile state directory (default /run/berth)");
  app.add_option("--address,-a", address, "gRPC unix socket (default /run/berth/berth.sock)");
  app.add_option("--log-level,-l", log_level, "trace, debug, info, warn, error");
  app.add_flag("--debug", debug, "same as --log-level debug");
  app.add_option("--instance-id", instance_id, "name of this daemon instance in logs");
  CLI::App* oci_hook = app.add_subcommand("oci-hook", "run an OCI hook with {{id}}, {{pid}}, {{rootfs}}, {{bundle}}, "
                                 "{{annotation \"k\"}} in its arguments filled from the state on stdin "
                                 "(berthd oci-hook -- CMD ARGS...)");
  oci_hook->allow_extras();
  CLI::App* config_cmd = app.add_subcommand("config", "information on berthd's configuration");
  config_cmd->require_subcommand(1);
  CLI::App* config_default = config_cmd->add_subcommand("default", "print the default configuration (TOML)");
  CLI::App* config_dump = config_cmd->add_subcommand("dump", "print the configuration in effect: file, then flags");
  CLI11_PARSE(app, argc, argv);
  if (oci_hook->parsed()) {
    std::fprintf(stderr, "berthd: oci-hook must come first: berthd oci-hook -- COMMAND [ARG...]\n");
    return 2;
  }
  if (config_default->parsed()) {
    std::fputs(berth::server::ToToml(Config{}).c_str(), stdout);
    return 0;
  }

  Config config;
  if (!config_path.empty()) {
    auto loaded = berth::server::LoadConfigFile(config_path);
    if (!loaded.ok()) return Fail(loaded.status());
    config = *loaded;
  } else {
    auto loaded = berth::server::LoadConfigFile(berth::server::kDefaultConfigPath);
    if (loaded.ok()) {
      config = *loaded;
    } else if (!loaded.status().Is(berth::Errc::kNotFound)) {
      return Fail(loaded.status());
    }
  }
  if (root) config.root = *root;
  if (state) config.state = *state;
  if (address) config.address = *address;
  if (log_level) config.log_level = *log_level;
  if (debug) config.log_level = "debug";
  if (instance_id) config.instance_id = *instance_id;
  if (auto st = berth::server::Validate(config); !st.ok()) return Fail(st);
  if (config_dump->parsed()) {
    std::fputs(berth::server::ToToml(config).c_str(), stdout);
    return 0;
  }
  if (auto st = berth::log::Init(config.log_level); !st.ok()) return Fail(st);
  for (const std::string& note : config.notes) berth::log::Warn("configuration not applied", {{"detail", note}});

  // Signals are taken synchronously by the main thread; block them before any thread starts
  // so that gRPC's threads inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = berth::server::Server::Start(config);
  if (!server.ok()) return Fail(server.status());
  // Type=notify units (berthd.service) count berthd started once it serves; elsewhere a no-op.
  sd_notify(0, "READY=1");

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      berth::log::Info("SIGHUP ignored (configuration is read at start)");
      continue;
    }
    berth::log::Info("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  sd_notify(0, "STOPPING=1");
  (*server)->Shutdown();
  berth::log::Info("berthd stopped");
  return 0;
}
