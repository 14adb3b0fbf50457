// berth namespaces: create, list, get, label and remove namespaces (`ctr namespaces`).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/output.h"
#include "common/labels.h"

namespace berth::cli {
namespace {

struct NamespaceArgs {
  std::string name;
  std::vector<std::string> names;
  std::vector<std::string> labels;
  bool quiet = false;
  std::string format = kFormatTable;
};

nlohmann::ordered_json ToJson(const client::Namespace& ns) {
  return {{"name", ns.name}, {"labels", ns.labels}};
}

int RunCreate(const GlobalOptions& global, const NamespaceArgs& args) {
  auto parsed = labels::ParseKeyValues(args.labels);
  if (!parsed.ok()) return Fail(parsed.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto created = client->CreateNamespace(args.name, *parsed);
  if (!created.ok()) return Fail(created.status());
  return 0;
}

int RunList(const GlobalOptions& global, const NamespaceArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto namespaces = client->ListNamespaces();
  if (!namespaces.ok()) return Fail(namespaces.status());
  if (args.quiet) {
    for (const auto& ns : *namespaces) std::cout << ns.name << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& ns : *namespaces) out.push_back(ToJson(ns));
    std::cout << out.dump(2) << '\n';
  } else {
    Table table({"NAME", "LABELS"});
    for (const auto& ns : *namespaces) table.AddRow({ns.name, FormatLabels(ns.labels)});
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

// containerd's Get answers any name, with no labels for a namespace that does not exist;
// the list tells whether it does.
Result<client::Namespace> FindNamespace(client::Client& client, const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(auto namespaces, client.ListNamespaces());
  for (auto& ns : namespaces) {
    if (ns.name == name) return std::move(ns);
  }
  return NotFound("namespace {:?}", name);
}

int RunGet(const GlobalOptions& global, const NamespaceArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto ns = FindNamespace(*client, args.name);
  if (!ns.ok()) return Fail(ns.status());
  if (args.format == kFormatJson) {
    std::cout << ToJson(*ns).dump(2) << std::endl;
  } else {
    Table table({"NAME", "LABELS"});
    table.AddRow({ns->name, FormatLabels(ns->labels)});
    std::cout << table.Render() << std::flush;
  }
  return 0;
}

// Sets labels through the update mask, one path per key as ctr does; an empty value removes
// the label (it is left out of the update, so the server deletes it).
int RunLabel(const GlobalOptions& global, const NamespaceArgs& args) {
  auto parsed = labels::ParseKeyValues(args.labels);
  if (!parsed.ok()) return Fail(parsed.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (parsed->empty()) {
    // Nothing to set: show the current labels instead.
    auto ns = FindNamespace(*client, args.name);
    if (!ns.ok()) return Fail(ns.status());
    for (const auto& [key, value] : ns->labels) std::cout << key << '=' << value << '\n';
    std::cout << std::flush;
    return 0;
  }
  labels::Labels update;
  std::vector<std::string> paths;
  for (const auto& [key, value] : *parsed) {
    paths.push_back("labels." + key);
    if (!value.empty()) update[key] = value;
  }
  auto updated = client->UpdateNamespaceLabels(args.name, update, paths);
  if (!updated.ok()) return Fail(updated.status());
  return 0;
}

// Removes each namespace in turn, printing the ones removed; unlike ctr a missing namespace
// is an error. Fails if any removal failed.
int RunRemove(const GlobalOptions& global, const NamespaceArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& name : args.names) {
    if (Status status = client->DeleteNamespace(name); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << name << std::endl;
  }
  return exit_code;
}

void AddFormatOption(CLI::App* cmd, NamespaceArgs& args) {
  cmd->add_option("--format", args.format, "Output format")
      ->check(CLI::IsMember({kFormatTable, kFormatJson}))
      ->capture_default_str();
}

}  // namespace

void AddNamespacesCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<NamespaceArgs>();
  auto* group = app.add_subcommand("namespaces", "Manage namespaces");
  group->alias("namespace")->alias("ns");
  // Binds a subcommand to its runner.
  auto bind = [&cli, args](CLI::App* cmd, int (*run)(const GlobalOptions&, const NamespaceArgs&)) {
    cmd->callback(
        [&cli, args, run] { cli.action = [&cli, args, run] { return run(cli.global, *args); }; });
  };

  auto* create = group->add_subcommand("create", "Create a new namespace");
  create->alias("c");
  create->add_option("name", args->name, "Namespace name")->required();
  create->add_option("labels", args->labels, "Labels, as key=value");
  bind(create, RunCreate);

  auto* list = group->add_subcommand("list", "List namespaces");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the namespace names");
  AddFormatOption(list, *args);
  bind(list, RunList);

  auto* get = group->add_subcommand("get", "Show a namespace and its labels");
  get->add_option("name", args->name, "Namespace name")->required();
  AddFormatOption(get, *args);
  bind(get, RunGet);

  auto* label = group->add_subcommand(
      "label", "Set and clear labels of a namespace; key= clears the label, no labels shows them");
  label->add_option("name", args->name, "Namespace name")->required();
  label->add_option("labels", args->labels, "Labels, as key=value");
  bind(label, RunLabel);

  auto* remove = group->add_subcommand("remove", "Remove one or more namespaces");
  remove->alias("rm");
  remove->add_option("names", args->names, "Namespace names")->required();
  bind(remove, RunRemove);
}

}  // namespace berth::cli
