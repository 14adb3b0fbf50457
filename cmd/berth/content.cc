// berth content: list, read, ingest, label and remove blobs, and show open ingests
// (`ctr content`).
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/human.h"
#include "berth/label_update.h"
#include "berth/output.h"
#include "common/logging.h"

namespace berth::cli {
namespace {

struct ContentArgs {
  std::vector<std::string> args;  // filters, digests, refs or labels, by verb
  std::string object;             // the digest or ref a verb works on
  std::string expected_digest;
  int64_t expected_size = 0;
  std::vector<std::string> labels;
  std::string lease;
  bool quiet = false;
  std::string format = kFormatTable;
};

std::string LabelsColumn(const labels::Labels& labels) {
  return labels.empty() ? "-" : FormatLabels(labels);
}

int RunList(const GlobalOptions& global, const ContentArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto infos = client->ListContent(args.args);
  if (!infos.ok()) return Fail(infos.status());
  if (args.quiet) {
    for (const auto& info : *infos) std::cout << info.digest << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& info : *infos) {
      out.push_back({{"digest", info.digest},
                     {"size", info.size},
                     {"created_at", FormatRfc3339(info.created_at)},
                     {"updated_at", FormatRfc3339(info.updated_at)},
                     {"labels", info.labels}});
    }
    std::cout << out.dump(2) << '\n';
  } else {
    const auto now = Clock::now();
    Table table({"DIGEST", "SIZE", "AGE", "LABELS"});
    for (const auto& info : *infos) {
      table.AddRow({info.digest, HumanSize(static_cast<double>(info.size)),
                    HumanDuration(now - info.created_at), LabelsColumn(info.labels)});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

int RunGet(const GlobalOptions& global, const ContentArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  Status status = client->ReadContent(args.object, std::cout);
  std::cout << std::flush;
  if (!status.ok()) return Fail(status);
  return 0;
}

// Copies stdin into the store under the ref; an ingest already open under it is resumed.
int RunIngest(const GlobalOptions& global, const ContentArgs& args) {
  auto parsed = labels::ParseKeyValues(args.labels);
  if (!parsed.ok()) return Fail(parsed.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;

  client::ContentWriteRequest request;
  request.ref = args.object;
  request.expected = args.expected_digest;
  request.size = args.expected_size;
  request.labels = std::move(parsed).value();
  // A file stream on stdin can seek back when stdin is a file (to restart a stale ingest).
  std::ifstream file("/dev/stdin", std::ios::binary);
  std::istream& in = file.is_open() ? static_cast<std::istream&>(file) : std::cin;
  // The ingest and the blob join --lease, if given.
  auto written = client->WithLease(args.lease).WriteContent(in, request);
  if (!written.ok()) return Fail(written.status().Wrap(fmt::format("ingest {:?}", args.object)));
  log::Debug("ingested", {{"ref", args.object},
                          {"digest", written->digest},
                          {"resumed_from", std::to_string(written->resumed_from)},
                          {"already_exists", written->already_exists ? "true" : "false"}});
  std::cout << written->digest << std::endl;
  return 0;
}

// Removes each blob, printing the ones removed; fails if any removal failed.
int RunRemove(const GlobalOptions& global, const ContentArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& digest : args.args) {
    if (Status status = client->DeleteContent(digest); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << digest << std::endl;
  }
  return exit_code;
}

// Sets and clears labels (k= clears), then prints the blob's labels; no labels just prints.
int RunLabel(const GlobalOptions& global, const ContentArgs& args) {
  auto update = ParseLabelUpdate(args.args);
  if (!update.ok()) return Fail(update.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto info = update->paths.empty()
                  ? client->GetContentInfo(args.object)
                  : client->UpdateContentLabels(args.object, update->labels, update->paths);
  if (!info.ok()) return Fail(info.status());
  PrintLabelLines(info->labels);
  return 0;
}

int RunActive(const GlobalOptions& global, const ContentArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto statuses = client->ListIngestStatuses(args.args);
  if (!statuses.ok()) return Fail(statuses.status());
  if (args.quiet) {
    for (const auto& st : *statuses) std::cout << st.ref << '\n';
  } else if (args.format == kFormatJson) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& st : *statuses) {
      out.push_back({{"ref", st.ref},
                     {"offset", st.offset},
                     {"total", st.total},
                     {"expected", st.expected},
                     {"started_at", FormatRfc3339(st.started_at)},
                     {"updated_at", FormatRfc3339(st.updated_at)}});
    }
    std::cout << out.dump(2) << '\n';
  } else {
    const auto now = Clock::now();
    Table table({"REF", "SIZE", "AGE"});
    for (const auto& st : *statuses) {
      table.AddRow({st.ref, HumanSize(static_cast<double>(st.offset)),
                    HumanDuration(now - st.started_at)});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return 0;
}

int RunAbort(const GlobalOptions& global, const ContentArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& ref : args.args) {
    if (Status status = client->AbortIngest(ref); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << ref << std::endl;
  }
  return exit_code;
}

}  // namespace

void AddContentCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<ContentArgs>();
  auto* group = app.add_subcommand("content", "Manage the content store");

  auto* list = group->add_subcommand("list", "List the blobs in the content store");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the digests");
  AddFormatOption(list, args->format);
  list->add_option("filters", args->args,
                   "Filters, as containerd's: digest==sha256:..., labels.\"k\"==v, ...");
  Bind(cli, list, args, RunList);

  auto* get = group->add_subcommand("get", "Write a blob's bytes to stdout");
  get->add_option("digest", args->object, "Digest of the blob")->required();
  Bind(cli, get, args, RunGet);

  auto* ingest = group->add_subcommand(
      "ingest", "Store stdin as a blob and print its digest; an open ingest of REF is resumed");
  ingest->add_option("ref", args->object, "Reference of the ingest")->required();
  ingest->add_option("--expected-digest", args->expected_digest, "Verify against this digest");
  ingest->add_option("--expected-size", args->expected_size, "Verify against this size")
      ->check(CLI::NonNegativeNumber);
  ingest->add_option("--label", args->labels, "Label of the blob, as key=value (repeatable)");
  ingest->add_option("--lease", args->lease, "Lease the ingest and blob join");
  Bind(cli, ingest, args, RunIngest);

  auto* remove = group->add_subcommand("remove", "Remove one or more blobs");
  remove->alias("rm")->alias("delete")->alias("del");
  remove->add_option("digests", args->args, "Digests of the blobs")->required();
  Bind(cli, remove, args, RunRemove);

  auto* label = group->add_subcommand(
      "label", "Set and clear labels of a blob (key= clears), then print its labels");
  label->add_option("digest", args->object, "Digest of the blob")->required();
  label->add_option("labels", args->args, "Labels, as key=value");
  Bind(cli, label, args, RunLabel);

  auto* active = group->add_subcommand("active", "List the open ingests");
  active->add_flag("-q,--quiet", args->quiet, "Print only the refs");
  AddFormatOption(active, args->format);
  active->add_option("filters", args->args, "Filters, as containerd's: ref~=regexp, ...");
  Bind(cli, active, args, RunActive);

  auto* abort = group->add_subcommand("abort", "Abort open ingests, dropping what they hold");
  abort->add_option("refs", args->args, "References of the ingests")->required();
  Bind(cli, abort, args, RunAbort);
}

}  // namespace berth::cli
