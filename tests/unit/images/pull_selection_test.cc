// What a pull fetches of an index (ChildrenToFetch) is what the unpack then resolves
// (ResolveManifest), whatever order the index lists its manifests in; schema 1 manifests are
// refused by name.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "images/walk.h"

namespace berth::images {
namespace {

using nlohmann::json;

const Platform kAmd64{"linux", "amd64", ""};
const Platform kArm64{"linux", "arm64", ""};

// Blobs in memory under made-up digests ("sha256:<name>").
class Blobs {
 public:
  BlobDescriptor Put(const std::string& name, std::string_view media_type, const json& body,
                     std::optional<Platform> platform = std::nullopt) {
    BlobDescriptor d{std::string(media_type), "sha256:" + name, 0, {}, std::move(platform)};
    blobs_[d.digest] = body.dump();
    d.size = static_cast<int64_t>(blobs_[d.digest].size());
    return d;
  }
  // A manifest whose config names `config_platform`; listed in an index with `index_platform`.
  BlobDescriptor Manifest(const std::string& name, const Platform& config_platform,
                          std::optional<Platform> index_platform) {
    auto config = Put(name + "-config", kOciConfig,
                      {{"os", config_platform.os}, {"architecture", config_platform.architecture}});
    return Put(name, kOciManifest, {{"config", Desc(config)}, {"layers", json::array()}},
               std::move(index_platform));
  }
  BlobDescriptor Index(const std::string& name, const std::vector<BlobDescriptor>& children) {
    json manifests = json::array();
    for (const auto& c : children) manifests.push_back(Desc(c));
    return Put(name, kOciIndex, {{"manifests", manifests}});
  }
  FetchBlob Fetch() const {
    return [this](const BlobDescriptor& d) -> Result<std::string> {
      auto it = blobs_.find(d.digest);
      if (it == blobs_.end()) return NotFound("content digest {}", d.digest);
      return it->second;
    };
  }

  static json Desc(const BlobDescriptor& d) {
    json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
    if (d.platform) j["platform"] = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    return j;
  }

 private:
  std::map<std::string, std::string> blobs_;
};

// The manifest a pull reaches from `root`: ChildrenToFetch followed down through indexes.
Result<std::string> PulledManifest(const BlobDescriptor& root, const Platform& platform, const FetchBlob& fetch) {
  BlobDescriptor at = root;
  for (int depth = 0; IsIndexType(at.media_type); ++depth) {
    if (depth > 8) return InvalidArgument("too deep");
    BERTH_ASSIGN_OR_RETURN(std::string blob, fetch(at));
    BERTH_ASSIGN_OR_RETURN(auto children, Children(at, blob));
    auto fetched = ChildrenToFetch(at, std::move(children), platform);
    if (fetched.size() != 1) return NotFound("{} children fetched of {}", fetched.size(), at.digest);
    at = fetched.front();
  }
  return at.digest;
}

// The config digest of the manifest the unpack resolves, and of the pulled one.
void ExpectPullFetchesWhatUnpackUses(const Blobs& blobs, const BlobDescriptor& root, const Platform& platform,
                                     const std::string& want_manifest) {
  auto resolved = ResolveManifest(root, platform, blobs.Fetch());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->config.digest, want_manifest + "-config");
  auto pulled = PulledManifest(root, platform, blobs.Fetch());
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(*pulled, want_manifest);
}

TEST(PullSelectionChildrenToFetch, AManifestWithAPlatformComesBeforeOneWithout) {
  Blobs blobs;
  // Listed first but without a platform: both the pull and the unpack take the one that names
  // the platform (containerd's LimitManifests order).
  auto bare = blobs.Manifest("bare", kAmd64, std::nullopt);
  auto named = blobs.Manifest("named", kAmd64, kAmd64);
  auto index = blobs.Index("index", {bare, named});
  ExpectPullFetchesWhatUnpackUses(blobs, index, kAmd64, named.digest);
}

TEST(PullSelectionChildrenToFetch, OtherPlatformsSkippedAndTheFirstMatchTaken) {
  Blobs blobs;
  auto arm = blobs.Manifest("arm", kArm64, kArm64);
  auto amd = blobs.Manifest("amd", kAmd64, kAmd64);
  auto amd2 = blobs.Manifest("amd2", kAmd64, kAmd64);
  auto index = blobs.Index("index", {arm, amd, amd2});
  ExpectPullFetchesWhatUnpackUses(blobs, index, kAmd64, amd.digest);
  ExpectPullFetchesWhatUnpackUses(blobs, index, kArm64, arm.digest);
}

TEST(PullSelectionChildrenToFetch, NestedIndexFollowed) {
  Blobs blobs;
  auto bare = blobs.Manifest("bare", kAmd64, std::nullopt);
  auto arm = blobs.Manifest("arm", kArm64, kArm64);
  auto inner = blobs.Index("inner", {bare, arm});
  auto root = blobs.Index("root", {inner});
  ExpectPullFetchesWhatUnpackUses(blobs, root, kArm64, arm.digest);
}

TEST(PullSelectionChildrenToFetch, NoMatchFetchesNothingAndManifestsKeepAllChildren) {
  Blobs blobs;
  auto arm = blobs.Manifest("arm", kArm64, kArm64);
  auto index = blobs.Index("index", {arm});
  std::vector<BlobDescriptor> children{arm};
  EXPECT_TRUE(ChildrenToFetch(index, children, kAmd64).empty());
  BlobDescriptor manifest{std::string(kOciManifest), "sha256:m", 1, {}};
  std::vector<BlobDescriptor> leaves{{std::string(kOciConfig), "sha256:c", 1, {}},
                                     {"application/vnd.oci.image.layer.v1.tar+gzip", "sha256:l", 1, {}}};
  EXPECT_EQ(ChildrenToFetch(manifest, leaves, kArm64).size(), 2u);
}

TEST(PullSelectionSchema1, RefusedByNameNotAsMissing) {
  for (std::string_view type : {kDockerSchema1Manifest, kDockerSchema1SignedManifest}) {
    BlobDescriptor d{std::string(type), "sha256:old", 10, {}};
    EXPECT_TRUE(IsSchema1ManifestType(type));
    Status check = CheckNotSchema1(d);
    EXPECT_TRUE(check.Is(Errc::kFailedPrecondition)) << check.ToString();
    EXPECT_NE(check.message().find("schema 1"), std::string::npos) << check.message();
    // The walks say so too, instead of "not found".
    auto resolved = ResolveManifest(d, kAmd64, [](const BlobDescriptor&) -> Result<std::string> {
      return std::string(R"({"schemaVersion":1,"fsLayers":[]})");
    });
    ASSERT_FALSE(resolved.ok());
    EXPECT_TRUE(resolved.status().Is(Errc::kFailedPrecondition)) << resolved.status().ToString();
    EXPECT_NE(resolved.status().message().find("schema 1"), std::string::npos);
    auto children = Children(d, R"({"schemaVersion":1})");
    ASSERT_FALSE(children.ok());
    EXPECT_TRUE(children.status().Is(Errc::kFailedPrecondition));
  }
  EXPECT_TRUE(CheckNotSchema1({std::string(kOciManifest), "sha256:m", 1, {}}).ok());
  EXPECT_FALSE(IsSchema1ManifestType(kDockerManifest));
}

}  // namespace
}  // namespace berth::images
