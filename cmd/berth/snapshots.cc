// berth snapshots: list, inspect, create, commit, mount and remove snapshots of one
// snapshotter (`ctr snapshots`).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/human.h"
#include "berth/label_update.h"
#include "berth/output.h"
#include "berth/snapshot_format.h"

namespace berth::cli {
namespace {

// The label ctr puts on the snapshots it prepares and commits so that GC keeps them.
inline constexpr const char* kGcRootLabel = "containerd.io/gc.root";

struct SnapshotArgs {
  std::string snapshotter = kDefaultSnapshotter;
  std::vector<std::string> args;  // filters, keys or labels, by verb
  std::string key;
  std::string parent;   // prepare, view: the parent; commit: the active key
  std::string target;   // where printed mount commands mount
  std::vector<std::string> labels;
  bool mounts_json = false;
  bool bytes = false;
  bool quiet = false;
  std::string format = kFormatTable;
};

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

nlohmann::ordered_json InfoJson(const client::SnapshotInfo& info) {
  return {{"name", info.name},
          {"parent", info.parent},
          {"kind", client::SnapshotKindName(info.kind)},
          {"labels", info.labels},
          {"created_at", FormatRfc3339(info.created_at)},
          {"updated_at", FormatRfc3339(info.updated_at)}};
}

nlohmann::ordered_json MountsJson(const std::vector<client::Mount>& mounts) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& m : mounts) {
    out.push_back({{"type", m.type}, {"source", m.source}, {"options", m.options}});
  }
  return out;
}

// What prepare and view print: the mount commands for --target, the mounts as JSON for
// --mounts, nothing otherwise (as ctr).
void PrintMounts(const SnapshotArgs& args, const std::vector<client::Mount>& mounts) {
  if (!args.target.empty()) {
    for (const auto& m : mounts) std::cout << MountCommand(m, args.target) << '\n';
  }
  if (args.mounts_json) std::cout << MountsJson(mounts).dump(2) << '\n';
  std::cout << std::flush;
}

// The labels of a new snapshot: --label values and, as ctr, a gc.root label so that the
// garbage collector keeps what a person made by hand.
Result<labels::Labels> NewSnapshotLabels(const SnapshotArgs& args) {
  BERTH_ASSIGN_OR_RETURN(labels::Labels out, labels::ParseKeyValues(args.labels));
  if (!out.contains(kGcRootLabel)) out[kGcRootLabel] = FormatRfc3339(Clock::now());
  return out;
}

int RunList(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto infos = client->ListSnapshots(args.snapshotter, args.args);
  if (!infos.ok()) return Fail(infos.status().Wrap("failed to list snapshots"));
  if (args.quiet) {
    for (const auto& info : *infos) std::cout << info.name << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& info : *infos) out.push_back(InfoJson(info));
    std::cout << out.dump(2) << '\n';
  } else {
    const auto now = Clock::now();
    Table table({"KEY", "PARENT", "KIND", "AGE", "LABELS"});
    for (const auto& info : *infos) {
      table.AddRow({info.name, OrDash(info.parent), std::string(client::SnapshotKindName(info.kind)),
                    HumanDuration(now - info.created_at),
                    info.labels.empty() ? "-" : FormatLabels(info.labels)});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

int RunInfo(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto info = client->StatSnapshot(args.snapshotter, args.key);
  if (!info.ok()) return Fail(info.status());
  if (args.format == kFormatJson) {
    std::cout << InfoJson(*info).dump(2) << std::endl;
    return 0;
  }
  const auto now = Clock::now();
  Table table;
  table.AddRow({"Key:", info->name});
  table.AddRow({"Parent:", OrDash(info->parent)});
  table.AddRow({"Kind:", std::string(client::SnapshotKindName(info->kind))});
  table.AddRow({"Created:", FormatRfc3339Local(info->created_at) + " (" +
                                HumanDuration(now - info->created_at) + " ago)"});
  table.AddRow({"Updated:", FormatRfc3339Local(info->updated_at) + " (" +
                                HumanDuration(now - info->updated_at) + " ago)"});
  if (info->labels.empty()) table.AddRow({"Labels:", "-"});
  bool first = true;
  for (const auto& [k, v] : info->labels) {
    table.AddRow({first ? "Labels:" : "", k + "=" + v});
    first = false;
  }
  std::cout << table.Render() << std::flush;
  return 0;
}

int RunPrepare(const GlobalOptions& global, const SnapshotArgs& args) {
  auto labels = NewSnapshotLabels(args);
  if (!labels.ok()) return Fail(labels.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto mounts = client->PrepareSnapshot(args.snapshotter, args.key, args.parent, *labels);
  if (!mounts.ok()) return Fail(mounts.status().Wrap(fmt::format("failed to prepare {:?}", args.key)));
  PrintMounts(args, *mounts);
  return 0;
}

int RunView(const GlobalOptions& global, const SnapshotArgs& args) {
  auto labels = labels::ParseKeyValues(args.labels);
  if (!labels.ok()) return Fail(labels.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto mounts = client->ViewSnapshot(args.snapshotter, args.key, args.parent, *labels);
  if (!mounts.ok()) return Fail(mounts.status().Wrap(fmt::format("failed to view {:?}", args.key)));
  PrintMounts(args, *mounts);
  return 0;
}

// commit NAME KEY (ctr's order: the new name, then the active snapshot).
int RunCommit(const GlobalOptions& global, const SnapshotArgs& args) {
  auto labels = NewSnapshotLabels(args);
  if (!labels.ok()) return Fail(labels.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  Status status = client->CommitSnapshot(args.snapshotter, args.key, args.parent, *labels);
  if (!status.ok()) {
    return Fail(status.Wrap(fmt::format("failed to commit {:?} as {:?}", args.parent, args.key)));
  }
  return 0;
}

int RunMounts(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto mounts = client->SnapshotMounts(args.snapshotter, args.key);
  if (!mounts.ok()) return Fail(mounts.status());
  if (args.format == kFormatJson) {
    std::cout << MountsJson(*mounts).dump(2) << '\n';
  } else {
    for (const auto& m : *mounts) std::cout << MountCommand(m, args.target) << '\n';
  }
  std::cout << std::flush;
  return 0;
}

// Removes each snapshot, printing the ones removed; fails if any removal failed. A snapshot
// with children cannot go: the error names them.
int RunRemove(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& key : args.args) {
    Status status = client->RemoveSnapshot(args.snapshotter, key);
    if (status.ok()) {
      std::cout << key << std::endl;
      continue;
    }
    std::string context = fmt::format("failed to remove {:?}", key);
    if (status.Is(Errc::kFailedPrecondition)) {
      // Filtered here: a key may hold anything, a filter value may not.
      auto all = client->ListSnapshots(args.snapshotter);
      std::string names;
      if (all.ok()) {
        for (const auto& s : *all) {
          if (s.parent == key) names += (names.empty() ? "" : ", ") + s.name;
        }
      }
      if (!names.empty()) {
        status = Status(status.code(), fmt::format("{} (children: {})", status.message(), names));
      }
    }
    exit_code = Fail(status.Wrap(context));
  }
  return exit_code;
}

int RunUsage(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  std::vector<std::string> keys = args.args;
  if (keys.empty()) {
    auto infos = client->ListSnapshots(args.snapshotter);
    if (!infos.ok()) return Fail(infos.status().Wrap("failed to list snapshots"));
    for (const auto& info : *infos) keys.push_back(info.name);
  }
  Table table({"KEY", "SIZE", "INODES"});
  auto json = nlohmann::ordered_json::array();
  int exit_code = 0;
  for (const auto& key : keys) {
    auto usage = client->GetSnapshotUsage(args.snapshotter, key);
    if (!usage.ok()) {
      exit_code = Fail(usage.status().Wrap(fmt::format("failed to get usage of {:?}", key)));
      continue;
    }
    if (args.format == kFormatJson) {
      json.push_back({{"key", key}, {"size", usage->size}, {"inodes", usage->inodes}});
    } else {
      table.AddRow({key, args.bytes ? std::to_string(usage->size) : HumanBytes(usage->size),
                    std::to_string(usage->inodes)});
    }
  }
  std::cout << (args.format == kFormatJson ? json.dump(2) + "\n" : table.Render()) << std::flush;
  return exit_code;
}

int RunTree(const GlobalOptions& global, const SnapshotArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto infos = client->ListSnapshots(args.snapshotter, args.args);
  if (!infos.ok()) return Fail(infos.status().Wrap("failed to list snapshots"));
  std::vector<TreeNode> nodes;
  for (const auto& info : *infos) {
    nodes.push_back({info.name, info.parent, std::string(client::SnapshotKindName(info.kind))});
  }
  std::cout << RenderSnapshotTree(nodes) << std::flush;
  return 0;
}

int RunLabel(const GlobalOptions& global, const SnapshotArgs& args) {
  auto update = ParseLabelUpdate(args.args);
  if (!update.ok()) return Fail(update.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto info = update->paths.empty()
                  ? client->StatSnapshot(args.snapshotter, args.key)
                  : client->UpdateSnapshotLabels(args.snapshotter, args.key, update->labels,
                                                 update->paths);
  if (!info.ok()) return Fail(info.status());
  PrintLabelLines(info->labels);
  return 0;
}

// -t/--target and --mounts, as prepare and view take them.
void AddMountOutputOptions(CLI::App* cmd, SnapshotArgs& args) {
  cmd->add_option("-t,--target", args.target, "Print the mount commands for this target path");
  cmd->add_flag("--mounts", args.mounts_json, "Print the snapshot's mounts as JSON");
  cmd->add_option("--label", args.labels, "Label of the snapshot, as key=value (repeatable)");
}

}  // namespace

void AddSnapshotsCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<SnapshotArgs>();
  auto* group = app.add_subcommand("snapshots", "Manage snapshots");
  group->alias("snapshot");
  group->add_option("--snapshotter", args->snapshotter, "Snapshotter to use")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();

  auto* list = group->add_subcommand("list", "List snapshots");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the keys");
  AddFormatOption(list, args->format);
  list->add_option("filters", args->args,
                   "Filters, as containerd's: kind==committed, parent==KEY, labels.\"k\"==v");
  Bind(cli, list, args, RunList);

  auto* info = group->add_subcommand("info", "Show a snapshot");
  info->add_option("key", args->key, "Key of the snapshot")->required();
  AddFormatOption(info, args->format);
  Bind(cli, info, args, RunInfo);

  auto* prepare = group->add_subcommand(
      "prepare", "Create an active (writable) snapshot, on a committed parent if given");
  prepare->add_option("key", args->key, "Key of the new snapshot")->required();
  prepare->add_option("parent", args->parent, "Key of the committed parent");
  AddMountOutputOptions(prepare, *args);
  Bind(cli, prepare, args, RunPrepare);

  auto* view = group->add_subcommand("view", "Create a read-only view of a committed snapshot");
  view->add_option("key", args->key, "Key of the new view")->required();
  view->add_option("parent", args->parent, "Key of the committed snapshot to view");
  AddMountOutputOptions(view, *args);
  Bind(cli, view, args, RunView);

  auto* commit = group->add_subcommand("commit", "Commit an active snapshot under a new name");
  commit->add_option("name", args->key, "Name of the committed snapshot")->required();
  commit->add_option("key", args->parent, "Key of the active snapshot")->required();
  commit->add_option("--label", args->labels, "Label of the snapshot, as key=value (repeatable)");
  Bind(cli, commit, args, RunCommit);

  auto* mounts = group->add_subcommand(
      "mounts", "Print the mount commands of an active snapshot or a view");
  mounts->alias("mount")->alias("m");
  mounts->add_option("target", args->target, "Where the commands mount")->required();
  mounts->add_option("key", args->key, "Key of the snapshot")->required();
  AddFormatOption(mounts, args->format);
  Bind(cli, mounts, args, RunMounts);

  auto* remove = group->add_subcommand("remove", "Remove one or more snapshots");
  remove->alias("rm")->alias("delete")->alias("del");
  remove->add_option("keys", args->args, "Keys of the snapshots")->required();
  Bind(cli, remove, args, RunRemove);

  auto* usage = group->add_subcommand("usage", "Show the disk usage of snapshots (all if none given)");
  usage->add_flag("-b,--bytes", args->bytes, "Sizes in bytes");
  AddFormatOption(usage, args->format);
  usage->add_option("keys", args->args, "Keys of the snapshots");
  Bind(cli, usage, args, RunUsage);

  auto* tree = group->add_subcommand("tree", "Show snapshots as a tree of parents and children");
  tree->add_option("filters", args->args, "Filters, as for list");
  Bind(cli, tree, args, RunTree);

  auto* label = group->add_subcommand(
      "label", "Set and clear labels of a snapshot (key= clears), then print its labels");
  label->add_option("key", args->key, "Key of the snapshot")->required();
  label->add_option("labels", args->args, "Labels, as key=value");
  Bind(cli, label, args, RunLabel);
}

}  // namespace berth::cli
