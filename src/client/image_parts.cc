#include "client/image_parts.h"

#include "images/rootfs.h"

namespace berth::client {

Result<ImageParts> LoadImage(Client& client, const std::string& ref, const images::Platform& platform) {
  auto image = client.GetImage(ref);
  if (!image.ok()) {
    if (image.status().Is(Errc::kNotFound)) return NotFound("image {} not found (pull it first: berth pull)", ref);
    return image.status();
  }
  images::FetchBlob fetch = [&client](const images::BlobDescriptor& d) { return client.ReadContentBlob(d.digest); };
  auto manifest = images::ResolveManifest(image->target, platform, fetch);
  if (!manifest.ok()) {
    return manifest.status().Wrap(fmt::format("image {} for platform {}", ref, images::FormatPlatform(platform)));
  }
  auto config_blob = fetch(manifest->config);
  if (!config_blob.ok()) return config_blob.status().Wrap(fmt::format("config of image {}", ref));
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, images::ConfigDiffIds(*config_blob));
  BERTH_ASSIGN_OR_RETURN(auto config, oci::ParseImageConfig(*config_blob));
  return ImageParts{std::move(*image), std::move(config), images::ChainId(diff_ids)};
}


}  // namespace berth::client
