// berth images: list, check, label and remove images (`ctr images`). Sizes and platforms come
// from the manifests in the content store, as ctr's do.
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "berth/cli.h"
#include "berth/human.h"
#include "images/walk.h"
#include "berth/label_update.h"
#include "berth/output.h"
#include "common/logging.h"

namespace berth::cli {
using namespace ::berth::images;  // the image model (src/images) is the CLI's vocabulary
namespace {

struct ImageArgs {
  std::vector<std::string> args;  // filters, refs or labels, by verb
  std::string object;             // the ref a verb works on
  bool quiet = false;
  bool sync = false;
  std::string format = kFormatTable;
};

// Blobs read from the daemon, each once per run (an index serves every image it is in).
class BlobCache {
 public:
  explicit BlobCache(client::Client& client) : client_(client) {}

  FetchBlob Fetcher() {
    return [this](const BlobDescriptor& d) -> Result<std::string> {
      if (auto it = blobs_.find(d.digest); it != blobs_.end()) return it->second;
      BERTH_ASSIGN_OR_RETURN(std::string blob, client_.ReadContentBlob(d.digest));
      blobs_[d.digest] = blob;
      return blob;
    };
  }

  HasBlob Checker() {
    return [this](const BlobDescriptor& d) -> Result<bool> {
      if (blobs_.contains(d.digest)) return true;
      auto info = client_.GetContentInfo(d.digest);
      if (info.ok()) return true;
      if (info.status().Is(Errc::kNotFound)) return false;
      return info.status();
    };
  }

 private:
  client::Client& client_;
  std::map<std::string, std::string> blobs_;
};

// The PLATFORMS column: the distinct platforms, sorted, comma separated; "-" when unknown.
std::string PlatformsColumn(const Result<std::vector<Platform>>& platforms) {
  if (!platforms.ok() || platforms->empty()) return "-";
  std::set<std::string> names;
  for (const auto& p : *platforms) names.insert(FormatPlatform(p));
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

int RunList(const GlobalOptions& global, const ImageArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto images = client->ListImages(args.args);
  if (!images.ok()) return Fail(images.status().Wrap("failed to list images"));
  if (args.quiet) {
    for (const auto& image : *images) std::cout << image.name << '\n';
    std::cout << std::flush;
    return 0;
  }
  BlobCache cache(*client);
  const Platform host = HostPlatform();
  Table table({"REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"});
  auto json = nlohmann::ordered_json::array();
  for (const auto& image : *images) {
    const BlobDescriptor& target = image.target;
    Status size_error;
    int64_t size = ImageSize(target, host, cache.Fetcher(), &size_error);
    if (!size_error.ok()) {
      log::Debug("failed calculating size", {{"image", image.name}, {"error", size_error.ToString()}});
    }
    auto platforms = ImagePlatforms(target, cache.Fetcher());
    if (!platforms.ok()) {
      log::Debug("failed resolving platforms",
                 {{"image", image.name}, {"error", platforms.status().ToString()}});
    }
    if (args.format == kFormatJson) {
      auto names = nlohmann::ordered_json::array();
      if (platforms.ok()) {
        for (const auto& p : *platforms) names.push_back(FormatPlatform(p));
      }
      json.push_back({{"name", image.name},
                      {"target",
                       {{"mediaType", image.target.media_type},
                        {"digest", image.target.digest},
                        {"size", image.target.size}}},
                      {"size", size},
                      {"platforms", names},
                      {"labels", image.labels},
                      {"created_at", FormatRfc3339(image.created_at)},
                      {"updated_at", FormatRfc3339(image.updated_at)}});
      continue;
    }
    table.AddRow({image.name, image.target.media_type, image.target.digest, HumanBytes(size),
                  PlatformsColumn(platforms),
                  image.labels.empty() ? "-" : FormatLabels(image.labels)});
  }
  std::cout << (args.format == kFormatJson ? json.dump(2) + "\n" : table.Render()) << std::flush;
  return 0;
}

// Removes each image, printing the ones removed; fails if any removal failed.
int RunRemove(const GlobalOptions& global, const ImageArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  int exit_code = 0;
  for (const auto& name : args.args) {
    if (Status status = client->DeleteImage(name, args.sync); !status.ok()) {
      exit_code = Fail(status);
      continue;
    }
    std::cout << name << std::endl;
  }
  return exit_code;
}

int RunLabel(const GlobalOptions& global, const ImageArgs& args) {
  auto update = ParseLabelUpdate(args.args);
  if (!update.ok()) return Fail(update.status());
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Image change;
  change.name = args.object;
  change.labels = update->labels;
  auto image = update->paths.empty() ? client->GetImage(args.object)
                                     : client->UpdateImage(change, update->paths);
  if (!image.ok()) return Fail(image.status());
  PrintLabelLines(image->labels);
  return 0;
}

struct CheckRow {
  std::string status;  // "complete (n/m)", "incomplete (n/m)", "unavailable (n/?)", "error"
  std::string size;    // "present/required" sizes
  bool complete = false;
};

CheckRow Summarize(const Result<CheckResult>& check) {
  CheckRow row;
  if (!check.ok()) return {"error", "-", false};
  int64_t required = 0, present = 0;
  for (const auto& d : check->required) required += d.size;
  for (const auto& d : check->present) present += d.size;
  if (!check->available) {
    row.status = fmt::format("unavailable ({}/?)", check->present.size());
    row.size = HumanBytes(present) + "/?";
    return row;
  }
  row.complete = check->missing.empty();
  row.status = fmt::format("{} ({}/{})", row.complete ? "complete" : "incomplete",
                           check->present.size(), check->required.size());
  row.size = HumanBytes(present) + "/" + HumanBytes(required);
  return row;
}

nlohmann::ordered_json DigestsJson(const std::vector<BlobDescriptor>& descs) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& d : descs) out.push_back(d.digest);
  return out;
}

// For each image, whether the blobs of the host platform's manifest are all in the content
// store. Fails only when an image could not be checked, as ctr.
int RunCheck(const GlobalOptions& global, const ImageArgs& args) {
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  auto images = client->ListImages(args.args);
  if (!images.ok()) return Fail(images.status().Wrap("failed listing images"));
  BlobCache cache(*client);
  const Platform host = HostPlatform();
  int exit_code = 0;
  Table table({"REF", "TYPE", "DIGEST", "STATUS", "SIZE"});
  auto json = nlohmann::ordered_json::array();
  for (const auto& image : *images) {
    auto check = CheckImage(image.target, host, cache.Fetcher(), cache.Checker());
    if (!check.ok()) exit_code = Fail(check.status().Wrap(fmt::format("unable to check {}", image.name)));
    CheckRow row = Summarize(check);
    if (args.quiet) {
      if (row.complete) std::cout << image.name << '\n';
    } else if (args.format == kFormatJson) {
      nlohmann::ordered_json entry = {{"name", image.name},
                                      {"digest", image.target.digest},
                                      {"status", row.status},
                                      {"complete", row.complete}};
      if (check.ok()) {
        entry["available"] = check->available;
        entry["required"] = DigestsJson(check->required);
        entry["missing"] = DigestsJson(check->missing);
      }
      json.push_back(std::move(entry));
    } else {
      table.AddRow({image.name, image.target.media_type, image.target.digest, row.status, row.size});
    }
  }
  if (!args.quiet) std::cout << (args.format == kFormatJson ? json.dump(2) + "\n" : table.Render());
  std::cout << std::flush;
  return exit_code;
}

}  // namespace

void AddImagesCommand(CLI::App& app, Cli& cli) {
  auto args = std::make_shared<ImageArgs>();
  auto* group = app.add_subcommand("images", "Manage images");
  group->alias("image")->alias("i");

  auto* list = group->add_subcommand("list", "List images");
  list->alias("ls");
  list->add_flag("-q,--quiet", args->quiet, "Print only the image refs");
  AddFormatOption(list, args->format);
  list->add_option("filters", args->args, "Filters, as containerd's: name==REF, labels.\"k\"==v");
  Bind(cli, list, args, RunList);

  auto* check = group->add_subcommand(
      "check", "Check that the content of images (for this platform) is all in the store");
  check->add_flag("-q,--quiet", args->quiet, "Print only the refs of complete images");
  AddFormatOption(check, args->format);
  check->add_option("filters", args->args, "Filters, as for list");
  Bind(cli, check, args, RunCheck);

  auto* remove = group->add_subcommand("remove", "Remove one or more images");
  remove->alias("rm")->alias("delete")->alias("del");
  remove->add_flag("--sync", args->sync, "Return only once the garbage left is collected");
  remove->add_option("refs", args->args, "Image refs")->required();
  Bind(cli, remove, args, RunRemove);

  auto* label = group->add_subcommand(
      "label", "Set and clear labels of an image (key= clears), then print its labels");
  label->add_option("ref", args->object, "Image ref")->required();
  label->add_option("labels", args->args, "Labels, as key=value");
  Bind(cli, label, args, RunLabel);

  AddImageMountCommands(group, cli);
  AddImageArchiveCommands(group, cli);
  AddImageUnpackCommand(group, cli);
}

}  // namespace berth::cli
