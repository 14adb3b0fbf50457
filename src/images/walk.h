// Walking an image's manifests as containerd's images package does: which platforms an image
// has, its size for one platform, and whether its blobs are all in the content store
// (`ctr images check`). OCI and Docker manifests and indexes; blobs come through callbacks so
// the walk needs no daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/descriptor.h"
#include "common/status.h"

namespace berth::images {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
// Docker's schema 1 manifests: containerd 1.6 converts them on pull; berth does not.
inline constexpr std::string_view kDockerSchema1Manifest =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1SignedManifest =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

bool IsIndexType(std::string_view media_type);
bool IsManifestType(std::string_view media_type);
bool IsConfigType(std::string_view media_type);
bool IsSchema1ManifestType(std::string_view media_type);

// common/descriptor.h: the functions below give it its meaning.
using Platform = berth::Platform;

// containerd's platforms.Normalize: lower case, architecture aliases (x86_64 -> amd64,
// aarch64 -> arm64, ...), arm's variant defaulting to v7, arm64's v8 dropped.
Platform NormalizePlatform(Platform p);
// platforms.Format: "os/arch[/variant]", "unknown" without an os.
std::string FormatPlatform(const Platform& p);
// Whether an image for `have` runs where `want` is asked for (same os and architecture; a
// variant only if `want` names one).
bool MatchPlatform(const Platform& want, const Platform& have);
// The platform this program runs on ("linux/amd64", ...).
Platform HostPlatform();
// platforms.Parse for "os/arch[/variant]" (or just "os"), normalized; InvalidArgument for
// anything else.
Result<Platform> ParsePlatform(std::string_view spec);

// The one descriptor (common/descriptor.h). The walk reads media type, digest, size and an
// index entry's platform; children parsed from a manifest or index carry no annotations.
using BlobDescriptor = berth::Descriptor;

// kFailedPrecondition naming schema 1 as unsupported for a schema 1 manifest; Ok otherwise.
Status CheckNotSchema1(const BlobDescriptor& desc);

// A blob's bytes: kNotFound when the store does not have it.
using FetchBlob = std::function<Result<std::string>(const BlobDescriptor&)>;
// Whether the store has the blob.
using HasBlob = std::function<Result<bool>(const BlobDescriptor&)>;

// The descriptors an index (its manifests) or a manifest (its config, then its layers) refers
// to; none for other media types. kInvalidArgument for JSON that is not one,
// kFailedPrecondition for a schema 1 manifest.
Result<std::vector<BlobDescriptor>> Children(const BlobDescriptor& desc, std::string_view blob);

// The children of an index that may hold `platform`'s manifest, best first: those whose
// platform matches, then those without one (containerd's FilterPlatforms + LimitManifests
// order). ResolveManifest follows the first; so does a pull (ChildrenToFetch).
std::vector<BlobDescriptor> PlatformCandidates(std::vector<BlobDescriptor> children,
                                               const Platform& platform);

// containerd's checkpoint blobs (criu tar, spec, options) are application/vnd.containerd.container.*.
inline constexpr std::string_view kCheckpointMediaTypePrefix = "application/vnd.containerd.container.";
// An index that is a containerd checkpoint (it holds checkpoint blobs, not only manifests).
bool IsCheckpointIndex(const std::vector<BlobDescriptor>& children);

// Which of `parent`'s children a pull for `platform` fetches: of an index, the first platform
// candidate only (the manifest, or nested index, ResolveManifest will use; none when no child
// matches), or all of them for a checkpoint index; of a manifest, all of them (config and
// layers).
std::vector<BlobDescriptor> ChildrenToFetch(const BlobDescriptor& parent,
                                            std::vector<BlobDescriptor> children,
                                            const Platform& platform);

struct ParsedManifest {
  BlobDescriptor config;
  std::vector<BlobDescriptor> layers;
};

// The manifest of `target` for `platform` (images.Manifest): the target itself if it is a
// manifest, else the first manifest of the index (nested indexes followed) whose platform
// matches, a child manifest without a platform judged by its config. kNotFound when a blob
// needed is missing or no manifest matches.
Result<ParsedManifest> ResolveManifest(const BlobDescriptor& target, const Platform& platform,
                                       const FetchBlob& fetch);

struct CheckResult {
  bool available = false;  // the manifest could be read
  std::vector<BlobDescriptor> required, present, missing;
};

// images.Check: the config and layers of the platform's manifest, each present or missing;
// when the manifest cannot be resolved, not available with the target as the one missing blob.
Result<CheckResult> CheckImage(const BlobDescriptor& target, const Platform& platform,
                               const FetchBlob& fetch, const HasBlob& has);

// The bytes of the image for `platform` (image.Size): the target, the first matching manifest
// of an index, and that manifest's config and layers. What could not be read stops the walk:
// the size so far is returned and `error` (if given) says why.
int64_t ImageSize(const BlobDescriptor& target, const Platform& platform, const FetchBlob& fetch,
                  Status* error = nullptr);

// images.Platforms: the platforms an index names, or for a manifest its config's os/arch.
Result<std::vector<Platform>> ImagePlatforms(const BlobDescriptor& target, const FetchBlob& fetch);

}  // namespace berth::images
