#include "berth/cli.h"

#include <iostream>

#include "common/duration.h"
#include "common/logging.h"

namespace berth::cli {

Status ParseGlobalOptions(GlobalOptions& options) {
  auto timeout = ParseDuration(options.timeout);
  if (!timeout.ok()) return timeout.status().Wrap("--timeout");
  auto connect_timeout = ParseDuration(options.connect_timeout);
  if (!connect_timeout.ok()) return connect_timeout.status().Wrap("--connect-timeout");
  options.timeout_value = *timeout;
  options.connect_timeout_value = *connect_timeout;
  return Status::Ok();
}

std::unique_ptr<client::Client> Dial(const GlobalOptions& options) {
  using std::chrono::ceil;
  using std::chrono::milliseconds;
  client::Options client_options;
  client_options.timeout = ceil<milliseconds>(options.timeout_value);
  client_options.connect_timeout = ceil<milliseconds>(options.connect_timeout_value);
  log::Debug("connecting", {{"address", options.address},
                            {"namespace", options.namespace_name},
                            {"timeout", options.timeout},
                            {"connect_timeout", options.connect_timeout}});
  auto client = client::Client::Connect(options.address, options.namespace_name, client_options);
  if (client.ok()) return std::move(client).value();
  if (client.status().Is(Errc::kUnavailable)) {
    PrintError(client.status().message() + " (is berthd running?)");
  } else {
    Fail(client.status());
  }
  return nullptr;
}

void PrintError(std::string_view message) { std::cerr << "berth: " << message << std::endl; }

int Fail(const Status& status) {
  PrintError(status.ToString());
  return kExitFailure;
}

void AddFormatOption(CLI::App* cmd, std::string& format) {
  cmd->add_option("--format", format, "Output format")
      ->check(CLI::IsMember({kFormatTable, kFormatJson}))
      ->capture_default_str();
}

void PrintLabelLines(const labels::Labels& labels) {
  for (const auto& [key, value] : labels) std::cout << key << '=' << value << '\n';
  std::cout << std::flush;
}

}  // namespace berth::cli
