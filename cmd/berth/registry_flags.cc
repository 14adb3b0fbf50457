#include "berth/registry_flags.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "berth/human.h"
#include "berth/transfer_display.h"
#include "common/labels.h"
#include "images/walk.h"
#include "remotes/credentials.h"

namespace berth::cli {
namespace {

int FdOf(std::ostream& out) { return &out == &std::cerr || &out == &std::clog ? STDERR_FILENO : STDOUT_FILENO; }

// The password for `user`, read from the terminal without echo.
Result<std::string> AskPassword(const std::string& user) {
  if (!::isatty(STDIN_FILENO)) {
    return InvalidArgument("--user {:?} has no password and stdin is not a terminal to ask for it (use USER:PASSWORD)",
                           user);
  }
  std::cerr << "Password: " << std::flush;
  termios saved{};
  bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::cerr << '\n';
  return password;
}

}  // namespace

void AddRegistryFlags(CLI::App* cmd, RegistryFlags& f) {
  cmd->add_flag("--plain-http", f.plain_http, "Use plain HTTP to talk to the registry");
  cmd->add_flag("-k,--skip-verify", f.skip_verify, "Skip verifying the registry's TLS certificate");
  cmd->add_option("--tlscacert", f.tls_ca_cert, "CA bundle (PEM) to verify the registry's certificate with");
  cmd->add_option("-u,--user", f.user, "Registry user and password, USER[:PASSWORD]");
  cmd->add_option("--progress", f.progress, "Progress display: auto, tty, plain or none")
      ->check(CLI::IsMember({"auto", "tty", "plain", "none"}))
      ->capture_default_str();
}

Result<remotes::RegistryOptions> MakeRegistryOptions(const RegistryFlags& f) {
  remotes::RegistryOptions options;
  options.plain_http = f.plain_http;
  options.skip_verify = f.skip_verify;
  options.ca_file = f.tls_ca_cert;
  options.user_agent = std::string("berth/") + BERTH_VERSION;
  if (!f.user.empty()) {
    BERTH_ASSIGN_OR_RETURN(remotes::Credentials creds, remotes::ParseUserFlag(f.user));
    if (f.user.find(':') == std::string::npos) {
      BERTH_ASSIGN_OR_RETURN(creds.secret, AskPassword(creds.username));
    }
    options.credentials = [creds](const std::string&) { return std::optional<remotes::Credentials>(creds); };
  } else {
    std::filesystem::path config = remotes::DefaultDockerConfigPath();
    options.credentials = [config](const std::string& host) -> std::optional<remotes::Credentials> {
      auto found = remotes::DockerConfigCredentials(config, host);
      if (!found.ok()) {
        PrintError(found.status().Wrap("ignoring the docker config").ToString());
        return std::nullopt;
      }
      return *found;
    };
  }
  return options;
}

bool ProgressOnTerminal(const std::string& progress, std::ostream& out) {
  if (progress == "tty") return true;
  if (progress != "auto") return false;
  return ::isatty(FdOf(out)) != 0;
}

int TerminalWidth(std::ostream& out) {
  winsize ws{};
  if (::ioctl(FdOf(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

Result<client::PullResult> PullWithProgress(client::Client& client, const std::string& ref, const PullFlags& flags,
                                            std::ostream& out) {
  client::PullOptions options;
  BERTH_ASSIGN_OR_RETURN(options.registry, MakeRegistryOptions(flags.registry));
  if (!flags.platform.empty()) {
    BERTH_ASSIGN_OR_RETURN(options.platform, images::ParsePlatform(flags.platform));
  }
  options.all_platforms = flags.all_platforms;
  options.unpack = !flags.no_unpack;
  options.snapshotter = flags.snapshotter;
  options.max_concurrent_downloads = flags.max_concurrent_downloads;
  BERTH_ASSIGN_OR_RETURN(options.labels, labels::ParseKeyValues(flags.labels));

  const bool show = flags.registry.progress != "none";
  TransferDisplay display(out, ProgressOnTerminal(flags.registry.progress, out), /*push=*/false, TerminalWidth(out));
  if (show) options.progress = [&display](const client::TransferProgress& p) { display.Update(p); };
  const auto start = std::chrono::steady_clock::now();
  auto pulled = client::Pull(client, ref, options);
  if (show) display.Finish();
  if (!pulled.ok()) return pulled.status();
  if (show) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    double secs = std::chrono::duration<double>(elapsed).count();
    out << "pulled " << pulled->image.name << " (" << pulled->image.target.digest << "): "
        << HumanBytes(pulled->total) << ", " << HumanBytes(pulled->fetched) << " fetched in "
        << FormatElapsed(elapsed);
    if (secs > 0 && pulled->fetched > 0) {
      out << " (" << HumanBytes(static_cast<int64_t>(static_cast<double>(pulled->fetched) / secs)) << "/s)";
    }
    out << std::endl;
    if (!pulled->chain_id.empty()) {
      out << "unpacked " << images::FormatPlatform(options.platform) << " into " << options.snapshotter << ": "
          << pulled->chain_id << std::endl;
    }
  }
  return pulled;
}

}  // namespace berth::cli
