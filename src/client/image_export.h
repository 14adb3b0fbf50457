// Image export, as containerd's images/archive.Export and client.Export (`ctr images export`).
//
// Writes an OCI image layout as a tar: `oci-layout`, `index.json` (one descriptor per image
// named, annotated with io.containerd.image.name = the full name and
// org.opencontainers.image.ref.name = its tag), `blobs/<alg>/<hex>` for the index, manifests,
// configs and layers of the chosen platform (or all), streamed from the content store; and,
// unless skipped, Docker's `manifest.json` (Config, RepoTags, Layers) for the manifest each
// image resolves to on the platform, so `docker load` style readers take it too. Entries are
// sorted, owned by 0:0 with mtime 0, so the same images give the same bytes.
//
//   ExportOptions opts;
//   opts.images = {"docker.io/library/busybox:latest"};
//   std::ofstream out("busybox.tar", std::ios::binary);
//   BERTH_RETURN_IF_ERROR(ExportImages(*client, out, opts));
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "images/walk.h"

namespace berth::client {

struct ExportOptions {
  std::vector<std::string> images;  // names of the images to export, in index order
  // The platform whose manifest an index contributes (and manifest.json describes); the
  // host's when unset. Other platforms' manifests are left out unless all_platforms.
  std::optional<images::Platform> platform;
  bool all_platforms = false;  // every manifest of an index (all must be in the store)
  bool skip_manifest_json = false;
};

// Writes the archive of `options.images` to `out`. kNotFound for an unknown image, a missing
// blob, or an index with no manifest for the platform; kInvalidArgument when no image is named
// or an image's target is not a manifest or index. On error, `out` holds a partial archive.
Status ExportImages(Client& client, std::ostream& out, const ExportOptions& options);

}  // namespace berth::client
