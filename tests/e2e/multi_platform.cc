#include "multi_platform.h"

#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;

std::string Sha256Of(const fs::path& file) {
  auto sum = Run({"sha256sum", file.string()});
  return "sha256:" + sum.out.substr(0, 64);
}

}  // namespace

nlohmann::json WriteBlob(const fs::path& layout, const std::string& media_type, const std::string& data) {
  const fs::path tmp = layout / "blob.tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << data;
  const std::string digest = Sha256Of(tmp);
  fs::rename(tmp, LayoutBlobPath(layout, digest));
  return {{"mediaType", media_type}, {"digest", digest}, {"size", data.size()}};
}

void WriteLayoutIndex(const fs::path& layout, const nlohmann::json& manifests) {
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", manifests}};
  std::ofstream(layout / "index.json", std::ios::trunc) << index.dump();
}

bool TarLayout(const fs::path& layout, const fs::path& tar) {
  auto r = Run({"tar", "-C", layout.string(), "-cf", tar.string(), "."});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  return r.exit_code == 0;
}

TwoPlatformLayout MakeTwoPlatformLayout(const fs::path& layout, const std::string& tag, const fs::path& out) {
#if defined(__aarch64__)
  const std::string host_arch = "arm64", other_arch = "amd64";
#else
  const std::string host_arch = "amd64", other_arch = "arm64";
#endif
  TwoPlatformLayout result;
  fs::copy(layout, out, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  const std::string manifest_digest = LayoutManifestDigest(out, tag);
  if (manifest_digest.empty()) {
    ADD_FAILURE() << "no tag " << tag << " in " << layout;
    return result;
  }
  const std::string manifest_bytes = ReadFile(LayoutBlobPath(out, manifest_digest));
  auto manifest = nlohmann::json::parse(manifest_bytes);
  result.host_manifest = {{"mediaType", manifest.value("mediaType", "application/vnd.oci.image.manifest.v1+json")},
                          {"digest", manifest_digest},
                          {"size", manifest_bytes.size()},
                          {"platform", {{"architecture", host_arch}, {"os", "linux"}}}};

  // The other image: one uncompressed layer holding /platform.txt.
  const fs::path stage = out / "stage";
  fs::create_directories(stage);
  std::ofstream(stage / "platform.txt") << "linux/" << other_arch << "\n";
  const fs::path layer_tar = out / "layer.tar";
  auto r = Run({"tar", "-C", stage.string(), "--owner=0", "--group=0", "-cf", layer_tar.string(), "platform.txt"});
  fs::remove_all(stage);
  if (r.exit_code != 0) {
    ADD_FAILURE() << Describe(r);
    return result;
  }
  auto layer = WriteBlob(out, "application/vnd.oci.image.layer.v1.tar", ReadFile(layer_tar));
  fs::remove(layer_tar);
  result.other_platform = "linux/" + other_arch;
  result.other_chain_id = layer["digest"];  // uncompressed: its digest is its diff id
  nlohmann::json config = {
      {"architecture", other_arch},
      {"os", "linux"},
      {"config", {{"Cmd", {"/bin/sh"}}, {"Labels", {{"berth.test.platform", result.other_platform}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {result.other_chain_id}}}}};
  auto config_desc = WriteBlob(out, "application/vnd.oci.image.config.v1+json", config.dump());
  nlohmann::json other = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                          {"config", config_desc},
                          {"layers", {layer}}};
  result.other_manifest = WriteBlob(out, "application/vnd.oci.image.manifest.v1+json", other.dump());
  result.other_manifest["platform"] = {{"architecture", other_arch}, {"os", "linux"}};
  result.dir = out;
  return result;
}

}  // namespace berth::e2e
