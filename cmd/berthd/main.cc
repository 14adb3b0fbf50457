// berthd: the berth daemon. Serves containerd's gRPC API on a unix socket.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <systemd/sd-daemon.h>

#include "common/duration.h"
#include "common/logging.h"
#include "server/config.h"
#include "server/server.h"
#include "oci_hook.h"
#include "seed_help.h"

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
  CLI::App app{"High performance container daemon: containerd's API, in C++", "berthd"};
  const std::string version = std::string(BERTH_VERSION) + " " + BERTH_REVISION;
  app.set_version_flag("--version,-v", "berthd " + version, "print the version");
  app.set_help_flag("--help,-h", "show help");
  app.formatter(std::make_shared<berthd::SeedHelpFormatter>("High performance container daemon", version));
  // A flag given twice (or under two of its names) takes the last, as Go's flag package does.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string config_path;
  std::optional<std::string> root, state, address, log_level, instance_id, rest_address, metrics_interval;
  std::optional<int64_t> concurrency;
  bool debug = false;
  // The seed's flags (containerd 0.0.x: --id, --debug, --state-dir, --concurrency,
  // --metrics-interval, -l/--listen, --oom-notify) beside containerd 1.x's (-c/--config,
  // --root, --state, -a/--address, --log-level).
  app.add_option("--config,-c", config_path,
                 std::string("config file (TOML, containerd's config.toml too); default ") +
                     berth::server::kDefaultConfigPath + " if present");
  app.add_option("--id,--instance-id", instance_id, "unique berthd id to identify the instance (default \"berth\")");
  app.add_flag("--debug", debug, "enable debug output in the logs");
  app.add_option("--root", root, "persistent state directory (default /var/lib/berth)");
  app.add_option("--state,--state-dir", state, "runtime state directory (default /run/berth)");
  app.add_option("--concurrency", concurrency, "set the concurrency level for tasks (default 10; 0 = unbounded)");
  app.add_option("--metrics-interval", metrics_interval,
                 "interval for dumping metrics to the log (default \"1m0s\"; 0 = off)");
  app.add_option("--address,-a,--listen,-l", address,
                 "address on which the gRPC API will listen (default /run/berth/berth.sock)");
  bool oom_notify = true;
  CLI::Option* oom_flag = app.add_flag("--oom-notify", oom_notify,
                                       "enable oom notifications for containers (default; --oom-notify=false turns "
                                       "them off)");
  app.add_option("--rest-address", rest_address,
                 "serve containerd 0.0.x's REST API v1 here: host:port, :port (loopback) or a socket path");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI::App* oci_hook = app.add_subcommand("oci-hook", "run an OCI hook with {{id}}, {{pid}}, {{rootfs}}, {{bundle}}, "
                                 "{{annotation \"k\"}} in its arguments filled from the state on stdin "
                                 "(berthd oci-hook -- CMD ARGS...)");
  oci_hook->allow_extras();
  CLI::App* config_cmd = app.add_subcommand("config", "information on berthd's configuration");
  config_cmd->require_subcommand(1);
  CLI::App* config_default = config_cmd->add_subcommand("default", "print the default configuration (TOML)");
  CLI::App* config_dump = config_cmd->add_subcommand("dump", "print the configuration in effect: file, then flags");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version, or the error naming the flag
    return code == 0 ? 0 : 2;
  }
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
  if (rest_address) config.rest_address = *rest_address;
  if (concurrency) config.concurrency = *concurrency;
  if (oom_flag->count() > 0) config.oom_notify = oom_notify;
  if (metrics_interval) {
    auto parsed = berth::ParseDuration(*metrics_interval);
    if (!parsed.ok()) {
      std::fprintf(stderr, "berthd: --metrics-interval %s: not a duration (e.g. 30s, 1m, 0)\n", metrics_interval->c_str());
      return 2;
    }
    config.metrics_interval = *parsed;
  }
  if (auto st = berth::server::Validate(config); !st.ok()) {
    Fail(st);
    return 2;  // a bad value of a flag or a key: a usage error
  }
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
  // A daemon holds a connection, a fifo or a socket per task: the soft fd limit goes up to the
  // hard one, as containerd's Go runtime does at start (containers get their own limit from
  // their spec's rlimits).
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) berth::log::Warn("cannot raise the open files limit", {{"errno", errno}});
  }

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
