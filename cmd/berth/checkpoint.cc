// Checkpoint and restore from the command line:
//  - `berth checkpoint [--exit] [--rw] [--image] [--tcp] [--unix-sockets] [--shell] ID REF`: a
//    checkpoint image REF of container ID (containerd's format: `ctr c restore` reads it too);
//  - `berth restore [--live] [--rw] ID REF`: a new container ID from it, its task started
//    (restored with its memory when --live, else afresh from the checkpointed spec);
//  - the seed's named checkpoints of a container (the REST API's too): `berth checkpoints ls ID`,
//    `checkpoints create [--exit] [--tcp] [--unix-sockets] [--shell] ID NAME`, `checkpoints rm ID
//    NAME`, restored by `berth containers start --checkpoint NAME ID BUNDLE`.
#include <algorithm>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/output.h"
#include "berth/task_run.h"
#include "checkpoint/media_types.h"
#include "client/checkpoint.h"

namespace berth::cli {
namespace {

namespace ck = berth::checkpoint;

struct CheckpointArgs {
  std::string id;
  std::string ref;  // image reference, or a named checkpoint's name
  bool exit = false, rw = false, image = false, tcp = false, unix_sockets = false, shell = false;
  bool live = false;
};

client::CheckpointOptions OptionsOf(const CheckpointArgs& a) {
  client::CheckpointOptions o;
  o.exit = a.exit;
  o.rw = a.rw;
  o.image = a.image;
  o.tcp = a.tcp;
  o.unix_sockets = a.unix_sockets;
  o.shell = a.shell;
  return o;
}

int RunCheckpoint(const GlobalOptions& global, const CheckpointArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto image = client::CheckpointContainer(*client, args.id, args.ref, OptionsOf(args));
  if (!image.ok()) return Fail(image.status());
  std::cout << image->name << " " << image->target.digest << "\n";
  return 0;
}

bool SpecTerminal(const client::Container& c) {
  if (!c.spec) return false;
  auto spec = nlohmann::json::parse(c.spec->value(), nullptr, false);
  return spec.is_object() && spec.contains("process") && spec["process"].is_object() &&
         spec["process"].value("terminal", false);
}

int RunRestore(const GlobalOptions& global, const CheckpointArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::RestoreOptions ro;
  ro.rw = args.rw;
  auto restored = client::RestoreContainer(*client, args.id, args.ref, ro);
  if (!restored.ok()) return Fail(restored.status());
  TaskRunOptions to;
  to.detach = true;
  to.terminal = SpecTerminal(restored->container);
  if (args.live) {
    if (!restored->checkpoint) {
      DeleteContainerAndSnapshot(*client, restored->container).IgnoreError();
      return Fail(FailedPrecondition("checkpoint {} holds no task checkpoint (made without its task)", args.ref));
    }
    to.checkpoint = restored->checkpoint;
  }
  auto code = RunTask(*client, restored->container, to, nullptr);
  if (!code.ok()) {
    if (Status st = DeleteContainerAndSnapshot(*client, restored->container); !st.ok()) {
      PrintError("removing the container: " + st.ToString());
    }
    return Fail(code.status());
  }
  return 0;
}

std::string Flag(const labels::Labels& l, const char* key) {
  auto it = l.find(key);
  return it != l.end() && it->second == "true" ? "true" : "false";
}

int RunCheckpointsList(const GlobalOptions& global, const CheckpointArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (auto c = client->GetContainer(args.id); !c.ok()) return Fail(c.status());
  auto list = client->ListImages({fmt::format("labels.\"{}\"=={}", ck::kLabelContainer, args.id)});
  if (!list.ok()) return Fail(list.status());
  std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  Table table({"NAME", "TCP", "UNIX SOCKETS", "SHELL", "EXIT", "CREATED"});
  for (const auto& im : *list) {
    auto name = im.labels.find(ck::kLabelName);
    table.AddRow({name != im.labels.end() ? name->second : im.name, Flag(im.labels, ck::kLabelTcp),
                  Flag(im.labels, ck::kLabelUnixSockets), Flag(im.labels, ck::kLabelShell),
                  Flag(im.labels, ck::kLabelExit), FormatRfc3339(im.created_at)});
  }
  std::cout << table.Render() << std::flush;
  return 0;
}

int RunCheckpointsCreate(const GlobalOptions& global, const CheckpointArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::CheckpointOptions o = OptionsOf(args);
  o.labels[ck::kLabelContainer] = args.id;
  o.labels[ck::kLabelName] = args.ref;
  if (args.exit) o.labels[ck::kLabelExit] = "true";
  if (args.tcp) o.labels[ck::kLabelTcp] = "true";
  if (args.unix_sockets) o.labels[ck::kLabelUnixSockets] = "true";
  if (args.shell) o.labels[ck::kLabelShell] = "true";
  auto image = client::CheckpointContainer(*client, args.id, ck::NamedCheckpointImage(args.id, args.ref), o);
  if (!image.ok()) return Fail(image.status());
  return 0;
}

int RunCheckpointsRemove(const GlobalOptions& global, const CheckpointArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  Status st = client->DeleteImage(ck::NamedCheckpointImage(args.id, args.ref));
  if (st.Is(Errc::kNotFound)) return Fail(NotFound("checkpoint {:?} of container {} not found", args.ref, args.id));
  if (!st.ok()) return Fail(st);
  return 0;
}

void AddCriuFlags(CLI::App* cmd, CheckpointArgs& a) {
  cmd->add_flag("--exit", a.exit, "Stop the task after the checkpoint");
  cmd->add_flag("--tcp", a.tcp, "Checkpoint established TCP connections");
  cmd->add_flag("--unix-sockets", a.unix_sockets, "Checkpoint external unix sockets");
  cmd->add_flag("--shell", a.shell, "Checkpoint a shell job (a terminal outside the container)");
}

}  // namespace

void AddCheckpointCommands(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<CheckpointArgs>();
  auto* checkpoint = app.add_subcommand("checkpoint", "Checkpoint a container (its task with criu) into an image");
  checkpoint->add_option("id", args->id, "Container id")->required();
  checkpoint->add_option("ref", args->ref, "Name of the checkpoint image")->required();
  AddCriuFlags(checkpoint, *args);
  checkpoint->add_flag("--rw", args->rw, "Include the container's rw layer");
  checkpoint->add_flag("--image", args->image, "Include the container's image");
  Bind(cli, checkpoint, args, RunCheckpoint);

  auto* restore = app.add_subcommand("restore", "A new container from a checkpoint image, its task started");
  restore->add_option("id", args->id, "Id of the new container")->required();
  restore->add_option("ref", args->ref, "Checkpoint image")->required();
  restore->add_flag("--live", args->live, "Restore the task's processes and memory (else start it afresh)");
  restore->add_flag("--rw", args->rw, "Restore the checkpoint's rw layer");
  Bind(cli, restore, args, RunRestore);

  auto* group = app.add_subcommand("checkpoints", "A container's named checkpoints (the seed's)");
  group->require_subcommand(1);
  auto* ls = group->add_subcommand("ls", "List a container's checkpoints");
  ls->alias("list");
  ls->add_option("id", args->id, "Container id")->required();
  Bind(cli, ls, args, RunCheckpointsList);
  auto* create = group->add_subcommand("create", "Checkpoint a container's task under a name");
  create->add_option("id", args->id, "Container id")->required();
  create->add_option("name", args->ref, "Checkpoint name")->required();
  AddCriuFlags(create, *args);
  Bind(cli, create, args, RunCheckpointsCreate);
  auto* rm = group->add_subcommand("rm", "Remove a container's checkpoint");
  rm->alias("delete");
  rm->add_option("id", args->id, "Container id")->required();
  rm->add_option("name", args->ref, "Checkpoint name")->required();
  Bind(cli, rm, args, RunCheckpointsRemove);
}

}  // namespace berth::cli
