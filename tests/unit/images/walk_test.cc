// Manifest walking for `berth images ls/check` (cmd/berth/image_walk.h), over blobs in a map.
#include "images/walk.h"

#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

namespace berth::cli {
using namespace ::berth::images;  // the image model (src/images) is the CLI's vocabulary
namespace {

using nlohmann::json;

// A content store in memory: digests are made up ("sha256:<name>"), the walk never checks them.
class Store {
 public:
  BlobDescriptor Put(const std::string& name, std::string_view media_type, const json& body,
                     std::optional<Platform> platform = std::nullopt) {
    std::string blob = body.dump();
    BlobDescriptor d{std::string(media_type), "sha256:" + name, static_cast<int64_t>(blob.size()), {},
                     std::move(platform)};
    blobs_[d.digest] = blob;
    return d;
  }
  BlobDescriptor Layer(const std::string& name, int64_t size) {
    BlobDescriptor d{"application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + name, size, {}};
    blobs_[d.digest] = std::string(static_cast<size_t>(size), 'x');
    return d;
  }
  void Remove(const BlobDescriptor& d) { blobs_.erase(d.digest); }

  FetchBlob Fetch() const {
    return [this](const BlobDescriptor& d) -> Result<std::string> {
      auto it = blobs_.find(d.digest);
      if (it == blobs_.end()) return NotFound("content digest {}", d.digest);
      return it->second;
    };
  }
  HasBlob Has() const {
    return [this](const BlobDescriptor& d) -> Result<bool> { return blobs_.contains(d.digest); };
  }

 private:
  std::map<std::string, std::string> blobs_;
};

json Desc(const BlobDescriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (d.platform) {
    j["platform"] = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) j["platform"]["variant"] = d.platform->variant;
  }
  return j;
}

const Platform kAmd64{"linux", "amd64", ""};
const Platform kArm64{"linux", "arm64", ""};

// An image: config, two layers, one manifest.
struct Image {
  BlobDescriptor config, layer1, layer2, manifest;
};

Image MakeImage(Store& store, const std::string& prefix, const std::string& arch,
                std::string_view manifest_type = kOciManifest,
                std::string_view config_type = kOciConfig) {
  Image img;
  img.config = store.Put(prefix + "-config", config_type,
                         {{"os", "linux"}, {"architecture", arch}, {"rootfs", json::object()}});
  img.layer1 = store.Layer(prefix + "-l1", 1000);
  img.layer2 = store.Layer(prefix + "-l2", 2000);
  img.manifest = store.Put(prefix + "-manifest", manifest_type,
                           {{"schemaVersion", 2},
                            {"mediaType", manifest_type},
                            {"config", Desc(img.config)},
                            {"layers", {Desc(img.layer1), Desc(img.layer2)}}});
  return img;
}

TEST(WalkTest, MediaTypes) {
  EXPECT_TRUE(IsIndexType("application/vnd.oci.image.index.v1+json"));
  EXPECT_TRUE(IsIndexType("application/vnd.docker.distribution.manifest.list.v2+json"));
  EXPECT_TRUE(IsManifestType("application/vnd.oci.image.manifest.v1+json"));
  EXPECT_TRUE(IsManifestType("application/vnd.docker.distribution.manifest.v2+json"));
  EXPECT_FALSE(IsManifestType("application/vnd.oci.image.layer.v1.tar+gzip"));
  EXPECT_TRUE(IsConfigType("application/vnd.docker.container.image.v1+json"));
}

TEST(WalkTest, PlatformsNormalizeAndMatch) {
  EXPECT_EQ(FormatPlatform(NormalizePlatform({"Linux", "x86_64", ""})), "linux/amd64");
  EXPECT_EQ(FormatPlatform(NormalizePlatform({"linux", "aarch64", "v8"})), "linux/arm64");
  EXPECT_EQ(FormatPlatform(NormalizePlatform({"linux", "arm", ""})), "linux/arm/v7");
  EXPECT_EQ(FormatPlatform({"", "amd64", ""}), "unknown");
  EXPECT_TRUE(MatchPlatform(kAmd64, {"linux", "x86_64", ""}));
  EXPECT_FALSE(MatchPlatform(kAmd64, kArm64));
  EXPECT_FALSE(MatchPlatform({"linux", "arm", "v7"}, {"linux", "arm", "v6"}));
  EXPECT_EQ(HostPlatform().os, "linux");
  EXPECT_FALSE(HostPlatform().architecture.empty());
}

TEST(WalkTest, ChildrenOfManifestAndIndex) {
  Store store;
  Image img = MakeImage(store, "a", "amd64");
  auto children = Children(img.manifest, *store.Fetch()(img.manifest));
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  ASSERT_EQ(children->size(), 3u);
  EXPECT_EQ((*children)[0].digest, img.config.digest);
  EXPECT_EQ((*children)[2].size, 2000);

  auto index = store.Put("index", kOciIndex,
                         {{"schemaVersion", 2}, {"manifests", {Desc(img.manifest)}}});
  children = Children(index, *store.Fetch()(index));
  ASSERT_TRUE(children.ok());
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].digest, img.manifest.digest);

  EXPECT_TRUE(Children(img.layer1, "not json")->empty()) << "layers have no children";
  auto bad = Children(img.manifest, "{not json");
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument));
  bad = Children(img.manifest, R"({"config": {"mediaType": "x"}})");
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument)) << "a descriptor without a digest";
  // Sizes come from the registry (found by fuzz/image_manifest: a sum overflowed).
  bad = Children(img.manifest, R"({"config": {"digest": "sha256:1", "size": -1}})");
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument)) << "a negative size";
}

TEST(WalkTest, CheckCompleteThenIncompleteThenUnavailable) {
  Store store;
  Image img = MakeImage(store, "a", "amd64");
  auto check = CheckImage(img.manifest, kAmd64, store.Fetch(), store.Has());
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->available);
  EXPECT_EQ(check->required.size(), 3u) << "config and layers";
  EXPECT_EQ(check->present.size(), 3u);
  EXPECT_TRUE(check->missing.empty());

  store.Remove(img.layer2);
  check = CheckImage(img.manifest, kAmd64, store.Fetch(), store.Has());
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->available);
  EXPECT_EQ(check->present.size(), 2u);
  ASSERT_EQ(check->missing.size(), 1u);
  EXPECT_EQ(check->missing[0].digest, img.layer2.digest);

  store.Remove(img.manifest);
  check = CheckImage(img.manifest, kAmd64, store.Fetch(), store.Has());
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->available);
  ASSERT_EQ(check->missing.size(), 1u);
  EXPECT_EQ(check->missing[0].digest, img.manifest.digest);
}

TEST(WalkTest, IndexPicksTheManifestOfThePlatform) {
  Store store;
  Image amd = MakeImage(store, "amd", "amd64");
  Image arm = MakeImage(store, "arm", "arm64", kDockerManifest, kDockerConfig);
  BlobDescriptor amd_m = amd.manifest, arm_m = arm.manifest;
  amd_m.platform = kAmd64;
  arm_m.platform = kArm64;
  auto index = store.Put("index", kDockerManifestList,
                         {{"schemaVersion", 2}, {"manifests", {Desc(arm_m), Desc(amd_m)}}});

  auto manifest = ResolveManifest(index, kAmd64, store.Fetch());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->config.digest, amd.config.digest);
  manifest = ResolveManifest(index, kArm64, store.Fetch());
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->config.digest, arm.config.digest);
  manifest = ResolveManifest(index, {"linux", "s390x", ""}, store.Fetch());
  EXPECT_TRUE(manifest.status().Is(Errc::kNotFound));
  EXPECT_NE(manifest.status().message().find("no match for platform"), std::string::npos);

  // The other platform's blobs missing does not make this one incomplete.
  store.Remove(arm.layer1);
  auto check = CheckImage(index, kAmd64, store.Fetch(), store.Has());
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->missing.empty());
  // This platform's manifest missing: unavailable.
  store.Remove(amd.manifest);
  check = CheckImage(index, kAmd64, store.Fetch(), store.Has());
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->available);

  auto platforms = ImagePlatforms(index, store.Fetch());
  ASSERT_TRUE(platforms.ok());
  ASSERT_EQ(platforms->size(), 2u);
  EXPECT_EQ(FormatPlatform((*platforms)[0]), "linux/arm64");
  EXPECT_EQ(FormatPlatform((*platforms)[1]), "linux/amd64");
}

TEST(WalkTest, IndexChildWithoutPlatformIsJudgedByItsConfig) {
  Store store;
  Image arm = MakeImage(store, "arm", "arm64");
  auto index = store.Put("index", kOciIndex,
                         {{"schemaVersion", 2}, {"manifests", {Desc(arm.manifest)}}});
  EXPECT_TRUE(ResolveManifest(index, kArm64, store.Fetch()).ok());
  EXPECT_TRUE(ResolveManifest(index, kAmd64, store.Fetch()).status().Is(Errc::kNotFound));
  // A manifest as the target is taken whatever its platform.
  EXPECT_TRUE(ResolveManifest(arm.manifest, kAmd64, store.Fetch()).ok());
}

TEST(WalkTest, SizeCountsOnePlatformAndStopsAtMissingBlobs) {
  Store store;
  Image amd = MakeImage(store, "amd", "amd64");
  Image arm = MakeImage(store, "arm", "arm64");
  BlobDescriptor amd_m = amd.manifest, arm_m = arm.manifest;
  amd_m.platform = kAmd64;
  arm_m.platform = kArm64;
  auto index = store.Put("index", kOciIndex,
                         {{"schemaVersion", 2}, {"manifests", {Desc(arm_m), Desc(amd_m)}}});
  const int64_t image_size = amd.manifest.size + amd.config.size + 1000 + 2000;

  Status error;
  EXPECT_EQ(ImageSize(amd.manifest, kAmd64, store.Fetch(), &error), image_size);
  EXPECT_TRUE(error.ok());
  EXPECT_EQ(ImageSize(index, kAmd64, store.Fetch(), &error), index.size + image_size);
  EXPECT_TRUE(error.ok());

  store.Remove(amd.layer1);  // layers are not read: still counted
  EXPECT_EQ(ImageSize(index, kAmd64, store.Fetch(), &error), index.size + image_size);
  store.Remove(amd.manifest);
  EXPECT_EQ(ImageSize(index, kAmd64, store.Fetch(), &error), index.size + amd.manifest.size);
  EXPECT_TRUE(error.Is(Errc::kNotFound));

  auto platforms = ImagePlatforms(amd.manifest, store.Fetch());
  EXPECT_TRUE(platforms.status().Is(Errc::kNotFound));
  platforms = ImagePlatforms(arm.manifest, store.Fetch());
  ASSERT_TRUE(platforms.ok());
  ASSERT_EQ(platforms->size(), 1u);
  EXPECT_EQ(FormatPlatform((*platforms)[0]), "linux/arm64");
}

}  // namespace
}  // namespace berth::cli
