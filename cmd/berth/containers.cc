// berth containers: list, show, label and remove container records (`ctr containers`).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/human.h"
#include "berth/label_update.h"
#include "berth/output.h"
#include "berth/task_run.h"
#include "client/typeurl.h"

namespace berth::cli {
namespace {

// The type url containerd packs an OCI runtime spec with (its value is the spec's JSON).
inline constexpr std::string_view kSpecTypeUrl =
    "types.containerd.io/opencontainers/runtime-spec/1/Spec";

struct ContainerArgs {
  std::vector<std::string> args;  // filters, ids or labels, by verb
  std::string object;             // the id a verb works on
  bool quiet = false;
  bool spec_only = false;
  std::string format = kFormatTable;
};

std::string Base64(std::string_view data) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16 |
                 static_cast<unsigned char>(data[i + 1]) << 8 |
                 static_cast<unsigned char>(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kChars[(n >> shift) & 0x3F];
  }
  if (size_t rest = data.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kChars[(n >> 18) & 0x3F];
    out += kChars[(n >> 12) & 0x3F];
    out += rest == 2 ? kChars[(n >> 6) & 0x3F] : '=';
    out += '=';
  }
  return out;
}

// A gogo types.Any as Go's encoding/json writes it.
nlohmann::ordered_json AnyJson(const google::protobuf::Any& any) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!any.type_url().empty()) out["type_url"] = any.type_url();
  if (!any.value().empty()) out["value"] = Base64(any.value());
  return out;
}

// The spec decoded: an OCI spec's JSON, else a known message's JSON, else the Any itself.
nlohmann::ordered_json SpecJson(const google::protobuf::Any& spec) {
  std::string json;
  if (client::TypeNameFromUrl(spec.type_url()) == client::TypeNameFromUrl(kSpecTypeUrl)) {
    json = spec.value();
  } else if (auto decoded = client::AnyToJson(spec); decoded.ok()) {
    json = *decoded;
  }
  auto out = nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  return out.is_discarded() ? AnyJson(spec) : out;
}

// `ctr containers info`: containerd's containers.Container as Go's encoding/json writes it,
// with the spec decoded.
nlohmann::ordered_json InfoJson(const client::Container& c) {
  nlohmann::ordered_json out;
  out["ID"] = c.id;
  out["Labels"] = c.labels.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.labels);
  out["Image"] = c.image;
  out["Runtime"] = {{"Name", c.runtime.name},
                    {"Options", c.runtime.options ? AnyJson(*c.runtime.options) : nullptr}};
  out["SnapshotKey"] = c.snapshot_key;
  out["Snapshotter"] = c.snapshotter;
  out["CreatedAt"] = FormatRfc3339NanoUtc(c.created_at);
  out["UpdatedAt"] = FormatRfc3339NanoUtc(c.updated_at);
  nlohmann::ordered_json extensions = nullptr;
  for (const auto& [name, any] : c.extensions) extensions[name] = AnyJson(any);
  out["Extensions"] = std::move(extensions);
  if (c.spec && !c.spec->value().empty()) out["Spec"] = SpecJson(*c.spec);
  return out;
}

int RunList(const GlobalOptions& global, const ContainerArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto containers = client->ListContainers(args.args);
  if (!containers.ok()) return Fail(containers.status());
  if (args.quiet) {
    for (const auto& c : *containers) std::cout << c.id << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& c : *containers) out.push_back(InfoJson(c));
    std::cout << out.dump(2) << '\n';
  } else {
    Table table({"CONTAINER", "IMAGE", "RUNTIME"});
    for (const auto& c : *containers) {
      table.AddRow({c.id, c.image.empty() ? "-" : c.image, c.runtime.name});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

int RunInfo(const GlobalOptions& global, const ContainerArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto container = client->GetContainer(args.object);
  if (!container.ok()) return Fail(container.status());
  nlohmann::ordered_json out = InfoJson(*container);
  if (args.spec_only) out = out.contains("Spec") ? out["Spec"] : nullptr;
  std::cout << out.dump(4) << std::endl;
  return 0;
}

// Removes each container record and its snapshot (as ctr), printing the ones removed; a
// container with a task is refused. Fails if any removal failed.
int RunRemove(const GlobalOptions& global, const ContainerArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& id : args.args) {
    // A daemon without the tasks service (Unimplemented) has no tasks either.
    if (auto task = client->GetTask(id); task.ok()) {
      exit_code = Fail(FailedPrecondition(
          "cannot delete container {}: it has a task (berth tasks rm -f {} first)", id, id));
      continue;
    }
    auto container = client->GetContainer(id);
    if (!container.ok()) {
      exit_code = Fail(container.status());
      continue;
    }
    if (Status status = DeleteContainerAndSnapshot(*client, *container); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << id << std::endl;
  }
  return exit_code;
}

int RunLabel(const GlobalOptions& global, const ContainerArgs& args) {
  auto update = ParseLabelUpdate(args.args);
  if (!update.ok()) return Fail(update.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Container change;
  change.id = args.object;
  change.labels = update->labels;
  auto container = update->paths.empty() ? client->GetContainer(args.object)
                                         : client->UpdateContainer(change, update->paths);
  if (!container.ok()) return Fail(container.status());
  PrintLabelLines(container->labels);
  return 0;
}

}  // namespace

void AddContainersCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<ContainerArgs>();
  auto* group = app.add_subcommand("containers", "Manage containers");
  group->alias("container")->alias("c");

  auto* list = group->add_subcommand("list", "List containers");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the container ids");
  AddFormatOption(list, args->format);
  list->add_option("filters", args->args, "Filters, as containerd's: image==REF, labels.\"k\"==v");
  Bind(cli, list, args, RunList);

  auto* info = group->add_subcommand("info", "Show a container as JSON, its spec decoded");
  info->add_option("id", args->object, "Container id")->required();
  info->add_flag("--spec", args->spec_only, "Show only the spec");
  Bind(cli, info, args, RunInfo);

  auto* remove = group->add_subcommand("remove", "Remove one or more containers");
  remove->alias("rm")->alias("delete")->alias("del");
  remove->add_option("ids", args->args, "Container ids")->required();
  Bind(cli, remove, args, RunRemove);

  auto* label = group->add_subcommand(
      "label", "Set and clear labels of a container (key= clears), then print its labels");
  label->add_option("id", args->object, "Container id")->required();
  label->add_option("labels", args->args, "Labels, as key=value");
  Bind(cli, label, args, RunLabel);

  AddContainerCreateCommand(group, cli);
  AddSeedContainerCommands(group, cli);
}

}  // namespace berth::cli
