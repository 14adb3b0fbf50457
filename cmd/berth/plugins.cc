// berth plugins ls: the daemon's plugins and their status (`ctr plugins ls`).
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/output.h"

namespace berth::cli {
namespace {

struct PluginArgs {
  std::vector<std::string> filters;
  bool quiet = false;
  bool detailed = false;
  std::string format = kFormatTable;
};

// "ok", "error", or "skip" for a plugin that chose not to load (containerd marks those with
// the text of plugin.ErrSkipPlugin in the init error).
std::string PluginStatus(const client::Plugin& plugin) {
  if (!plugin.has_init_err()) return "ok";
  if (plugin.init_err().message().find("skip plugin") != std::string::npos) return "skip";
  return "error";
}

// containerd's platforms.Format: "os/arch/variant" without empty parts, "unknown" without os.
std::string FormatPlatform(const containerd::types::Platform& p) {
  if (p.os().empty()) return "unknown";
  std::string out = p.os();
  for (const std::string* part : {&p.architecture(), &p.variant()}) {
    if (!part->empty()) out += "/" + *part;
  }
  return out;
}

// The distinct platforms, sorted, comma separated; "-" for none.
std::string FormatPlatforms(const client::Plugin& plugin) {
  std::set<std::string> platforms;
  for (const auto& p : plugin.platforms()) platforms.insert(FormatPlatform(p));
  if (platforms.empty()) return "-";
  std::string out;
  for (const auto& p : platforms) out += (out.empty() ? "" : ",") + p;
  return out;
}

// Go's codes.Code names, which ctr prints for an init error.
std::string GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return kNames[code];
  return "Code(" + std::to_string(code) + ")";
}

nlohmann::ordered_json ToJson(const client::Plugin& plugin) {
  nlohmann::ordered_json out = {{"type", plugin.type()}, {"id", plugin.id()}};
  out["requires"] =
      std::vector<std::string>(plugin.requires_ids().begin(), plugin.requires_ids().end());
  auto platforms = nlohmann::ordered_json::array();
  for (const auto& p : plugin.platforms()) {
    nlohmann::ordered_json platform = {{"os", p.os()}, {"architecture", p.architecture()}};
    if (!p.variant().empty()) platform["variant"] = p.variant();
    platforms.push_back(std::move(platform));
  }
  out["platforms"] = std::move(platforms);
  out["exports"] =
      std::map<std::string, std::string>(plugin.exports().begin(), plugin.exports().end());
  out["capabilities"] =
      std::vector<std::string>(plugin.capabilities().begin(), plugin.capabilities().end());
  out["status"] = PluginStatus(plugin);
  if (plugin.has_init_err()) {
    out["init_err"] = {{"code", GrpcCodeName(plugin.init_err().code())},
                       {"message", plugin.init_err().message()}};
  }
  return out;
}

// The `ctr plugins ls --detailed` layout: one block of "Key: value" lines per plugin.
std::string RenderDetailed(const std::vector<client::Plugin>& plugins) {
  Table table;
  bool first = true;
  for (const auto& plugin : plugins) {
    if (!first) table.AddRow({});
    first = false;
    table.AddRow({"Type:", plugin.type()});
    table.AddRow({"ID:", plugin.id()});
    if (plugin.requires_ids_size() > 0) {
      table.AddRow({"Requires:"});
      for (const auto& r : plugin.requires_ids()) table.AddRow({"", r});
    }
    if (plugin.platforms_size() > 0) table.AddRow({"Platforms:", FormatPlatforms(plugin)});
    if (!plugin.exports().empty()) {
      table.AddRow({"Exports:"});
      std::map<std::string, std::string> exports(plugin.exports().begin(), plugin.exports().end());
      for (const auto& [key, value] : exports) table.AddRow({"", key + "  " + value});
    }
    if (plugin.capabilities_size() > 0) {
      std::string caps;
      for (const auto& c : plugin.capabilities()) caps += (caps.empty() ? "" : ",") + c;
      table.AddRow({"Capabilities:", caps});
    }
    if (plugin.has_init_err()) {
      table.AddRow({"Error:"});
      table.AddRow({"", "Code: " + GrpcCodeName(plugin.init_err().code())});
      table.AddRow({"", "Message: " + plugin.init_err().message()});
    }
  }
  return table.Render();
}

int RunList(const GlobalOptions& global, const PluginArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto plugins = client->Plugins(args.filters);
  if (!plugins.ok()) return Fail(plugins.status());
  if (args.quiet) {
    for (const auto& plugin : *plugins) std::cout << plugin.id() << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& plugin : *plugins) out.push_back(ToJson(plugin));
    std::cout << out.dump(2) << '\n';
  } else if (args.detailed) {
    std::cout << RenderDetailed(*plugins);
  } else {
    Table table({"TYPE", "ID", "PLATFORMS", "STATUS"});
    for (const auto& plugin : *plugins) {
      table.AddRow({plugin.type(), plugin.id(), FormatPlatforms(plugin), PluginStatus(plugin)});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace

void AddPluginsCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<PluginArgs>();
  auto* group = app.add_subcommand("plugins", "Provides information about berthd's plugins");
  group->alias("plugin");

  auto* list = group->add_subcommand("list", "List plugins");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the plugin ids");
  list->add_flag("-d,--detailed", args->detailed, "Print detailed information about each plugin");
  list->add_option("--format", args->format, "Output format (json includes all details)")
      ->check(CLI::IsMember({kFormatTable, kFormatJson}))
      ->capture_default_str();
  list->add_option("filters", args->filters,
                   "Filters, as containerd's: type==io.containerd.grpc.v1, id==version, ...");
  list->callback(
      [&cli, args] { cli.action = [&cli, args] { return RunList(cli.global, *args); }; });
}

}  // namespace berth::cli
