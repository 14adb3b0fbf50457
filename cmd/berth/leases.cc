// berth leases: create, list and remove leases and the resources they hold (`ctr leases`).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "common/duration.h"
#include "berth/human.h"
#include "berth/output.h"

namespace berth::cli {
namespace {

// The label containerd's GC reads a lease's expiry from (leases.WithExpiration).
inline constexpr const char* kExpireLabel = "containerd.io/gc.expire";

struct LeaseArgs {
  std::vector<std::string> args;  // filters, ids or labels, by verb
  std::string id;
  std::vector<std::string> labels;
  std::string expires = "24h";
  std::string resource_type;
  std::string resource_id;
  bool quiet = false;
  bool sync = false;
  std::string format = kFormatTable;
};

int RunList(const GlobalOptions& global, const LeaseArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto leases = client->ListLeases(args.args);
  if (!leases.ok()) return Fail(leases.status().Wrap("failed to list leases"));
  if (args.quiet) {
    for (const auto& lease : *leases) std::cout << lease.id << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& lease : *leases) {
      out.push_back({{"id", lease.id},
                     {"created_at", FormatRfc3339(lease.created_at)},
                     {"labels", lease.labels}});
    }
    std::cout << out.dump(2) << '\n';
  } else {
    Table table({"ID", "CREATED AT", "LABELS"});
    for (const auto& lease : *leases) {
      table.AddRow({lease.id, FormatRfc3339Local(lease.created_at),
                    lease.labels.empty() ? "-" : FormatLabels(lease.labels)});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

// Creates a lease and prints its id. Labels come positionally (as ctr) or by --label.
int RunCreate(const GlobalOptions& global, const LeaseArgs& args) {
  std::vector<std::string> all = args.args;
  all.insert(all.end(), args.labels.begin(), args.labels.end());
  auto labels = labels::ParseKeyValues(all);
  if (!labels.ok()) return Fail(labels.status());
  auto expires = ParseDuration(args.expires);
  if (!expires.ok()) return Fail(expires.status().Wrap("--expires"));
  if (expires->count() > 0) {
    auto at = std::chrono::time_point_cast<Clock::duration>(Clock::now() + *expires);
    (*labels)[kExpireLabel] = FormatRfc3339Local(at);
  }
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto lease = client->CreateLease(args.id, *labels);
  if (!lease.ok()) return Fail(lease.status());
  std::cout << lease->id << std::endl;
  return 0;
}

// Removes each lease, printing the ones removed; fails if any removal failed.
int RunRemove(const GlobalOptions& global, const LeaseArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& id : args.args) {
    if (Status status = client->DeleteLease(id, args.sync); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << id << std::endl;
  }
  return exit_code;
}

int RunAddResource(const GlobalOptions& global, const LeaseArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  Status status = client->AddLeaseResource(args.id, {args.resource_id, args.resource_type});
  if (!status.ok()) return Fail(status);
  return 0;
}

int RunDeleteResource(const GlobalOptions& global, const LeaseArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  Status status = client->DeleteLeaseResource(args.id, {args.resource_id, args.resource_type});
  if (!status.ok()) return Fail(status);
  return 0;
}

int RunResources(const GlobalOptions& global, const LeaseArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto resources = client->ListLeaseResources(args.id);
  if (!resources.ok()) return Fail(resources.status());
  if (args.quiet) {
    for (const auto& r : *resources) std::cout << r.id << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& r : *resources) out.push_back({{"type", r.type}, {"id", r.id}});
    std::cout << out.dump(2) << '\n';
  } else {
    Table table({"TYPE", "ID"});
    for (const auto& r : *resources) table.AddRow({r.type, r.id});
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

// LEASE TYPE ID, as add-resource and rm-resource take them.
void AddResourceArgs(CLI::App* cmd, LeaseArgs& args) {
  cmd->add_option("lease", args.id, "Lease id")->required();
  cmd->add_option("type", args.resource_type,
                  "Resource type: content, ingests, snapshots/<snapshotter>, ...")
      ->required();
  cmd->add_option("id", args.resource_id, "Resource id (a digest, an ingest ref, a key)")
      ->required();
}

}  // namespace

void AddLeasesCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<LeaseArgs>();
  auto* group = app.add_subcommand("leases", "Manage leases");
  group->alias("lease");

  auto* list = group->add_subcommand("list", "List leases");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the lease ids");
  AddFormatOption(list, args->format);
  list->add_option("filters", args->args, "Filters, as containerd's: id==ID, labels.\"k\"==v");
  Bind(cli, list, args, RunList);

  auto* create = group->add_subcommand("create", "Create a lease and print its id");
  create->add_option("--id", args->id, "Id of the lease (default: generated)");
  create->add_option("--label", args->labels, "Label, as key=value (repeatable)");
  create->add_option("-x,--expires", args->expires,
                     "Expiry as a duration (sets containerd.io/gc.expire); 0 never expires")
      ->capture_default_str();
  create->add_option("labels", args->args, "Labels, as key=value");
  Bind(cli, create, args, RunCreate);

  auto* remove = group->add_subcommand("remove", "Remove one or more leases");
  remove->alias("rm")->alias("delete")->alias("del");
  remove->add_flag("--sync", args->sync,
                   "Return only once the resources the leases alone kept are collected");
  remove->add_option("ids", args->args, "Lease ids")->required();
  Bind(cli, remove, args, RunRemove);

  auto* add = group->add_subcommand("add-resource", "Add a resource to a lease");
  AddResourceArgs(add, *args);
  Bind(cli, add, args, RunAddResource);

  auto* del = group->add_subcommand("rm-resource", "Remove a resource from a lease");
  del->alias("delete-resource");
  AddResourceArgs(del, *args);
  Bind(cli, del, args, RunDeleteResource);

  auto* resources = group->add_subcommand("resources", "List the resources of a lease");
  resources->add_option("lease", args->id, "Lease id")->required();
  resources->add_flag("-q,--quiet", args->quiet, "Print only the resource ids");
  AddFormatOption(resources, args->format);
  Bind(cli, resources, args, RunResources);
}

}  // namespace berth::cli
