// berth images import/export: image archives (`ctr images import/export`), OCI image layout
// tars (with Docker's manifest.json) out, OCI or `docker save` tars in.
#include "client/image_export.h"
#include "client/image_import.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "berth/cli.h"
#include "images/walk.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

struct ArchiveArgs {
  std::string file;                 // path or "-"
  std::vector<std::string> images;  // export
  std::string platform;             // "" for the host's
  bool all_platforms = false;
  bool skip_manifest_json = false;
  std::string base_name;
  std::string index_name;
  bool digests = false;
  bool no_unpack = false;
  std::string snapshotter = kDefaultSnapshotter;
};

Result<std::optional<images::Platform>> PlatformOf(const std::string& spec) {
  if (spec.empty()) return std::optional<images::Platform>();
  auto parsed = images::ParsePlatform(spec);
  if (!parsed.ok()) return parsed.status().Wrap(fmt::format("invalid platform {:?}", spec));
  return std::optional<images::Platform>(*parsed);
}

int RunExport(const GlobalOptions& global, const ArchiveArgs& args) {
  client::ExportOptions options;
  options.images = args.images;
  options.all_platforms = args.all_platforms;
  options.skip_manifest_json = args.skip_manifest_json;
  auto platform = PlatformOf(args.platform);
  if (!platform.ok()) return Fail(platform.status());
  options.platform = *platform;
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  // A large image streams for long.
  client::Client untimed = client->WithTimeout(std::chrono::milliseconds(0));
  if (args.file == "-") {
    Status st = client::ExportImages(untimed, std::cout, options);
    std::cout.flush();
    return st.ok() ? 0 : Fail(st);
  }
  std::ofstream out(args.file, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(ErrnoStatus(fmt::format("cannot create {}", args.file), errno));
  Status st = client::ExportImages(untimed, out, options);
  out.close();
  if (st.ok() && !out) st = Unknown("writing {} failed", args.file);
  if (!st.ok()) {
    std::error_code ec;
    fs::remove(args.file, ec);  // no partial archive left behind
    return Fail(st);
  }
  return 0;
}

int RunImport(const GlobalOptions& global, const ArchiveArgs& args) {
  client::ImportOptions options;
  options.base_name = args.base_name;
  options.index_name = args.index_name;
  options.digests = args.digests;
  options.all_platforms = args.all_platforms;
  auto platform = PlatformOf(args.platform);
  if (!platform.ok()) return Fail(platform.status());
  options.platform = *platform;
  options.unpack = !args.no_unpack;
  options.snapshotter = args.snapshotter;
  options.unpacking = [](const client::Image& image, bool done) {
    if (done) {
      std::cout << "done" << std::endl;
    } else {
      std::cout << "unpacking " << image.name << " (" << image.target.digest << ")..."
                << std::flush;
    }
  };
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args.file != "-") {
    file.open(args.file, std::ios::binary);
    if (!file) return Fail(ErrnoStatus(fmt::format("cannot open {}", args.file), errno));
    in = &file;
  }
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  client::Client untimed = client->WithTimeout(std::chrono::milliseconds(0));
  auto imported = client::ImportImages(untimed, *in, options);
  if (!imported.ok()) return Fail(imported.status());
  return 0;
}

}  // namespace

void AddImageArchiveCommands(CLI::App* images, Cli& cli) {
  auto args = std::make_shared<ArchiveArgs>();

  auto* exp = images->add_subcommand(
      "export", "Export images to an OCI image layout tar (with Docker's manifest.json)");
  exp->add_option("out", args->file, "Output file, - for stdout")->required();
  exp->add_option("images", args->images, "Images to export")->required();
  exp->add_option(
      "--platform", args->platform,
      "Platform whose manifest an index contributes, os/arch[/variant] (default: this host's)");
  exp->add_flag("--all-platforms", args->all_platforms, "Export the content of every platform");
  exp->add_flag("--skip-manifest-json", args->skip_manifest_json,
                "Do not add Docker's manifest.json to the archive");
  Bind(cli, exp, args, RunExport);

  auto* imp = images->add_subcommand("import",
                                     "Import images from a tar (OCI image layout, or docker save)");
  imp->add_option("in", args->file, "Input file, - for stdin")->required();
  imp->add_option(
      "--base-name", args->base_name,
      "Base image name for tag-only names; when given, only names under it are imported");
  imp->add_flag("--digests", args->digests, "Also create an image BASE@DIGEST per manifest");
  imp->add_option("--index-name", args->index_name, "Image name to keep the archive's index as");
  imp->add_flag("--all-platforms", args->all_platforms, "Import the content of every platform");
  imp->add_option("--platform", args->platform,
                  "Keep the content of and unpack only this platform, os/arch[/variant] (every "
                  "image is created; default: this host's)");
  imp->add_flag("--no-unpack", args->no_unpack, "Do not unpack the images");
  imp->add_option("--snapshotter", args->snapshotter, "Snapshotter to unpack into")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  Bind(cli, imp, args, RunImport);
}

}  // namespace berth::cli
