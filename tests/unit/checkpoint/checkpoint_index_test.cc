// The checkpoint image's index: containerd's JSON and gc labels, and reading it back.
#include "images/checkpoint_index.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checkpoint/media_types.h"

namespace berth::checkpoint {
namespace {

using images::CheckpointIndex;
using images::IndexEntry;

using nlohmann::json;

CheckpointIndex Sample() {
  CheckpointIndex index;
  index.manifests = {
      {kMediaTypeCriuTar, "sha256:" + std::string(64, 'a'), 1000, {}, true},
      {kMediaTypeConfig, "sha256:" + std::string(64, 'b'), 200, {}, true},
      {kMediaTypeOptions, "sha256:" + std::string(64, 'c'), 4, {}, true},
  };
  index.annotations[kAnnotationRuntime] = "io.containerd.runc.v2";
  return index;
}

TEST(CheckpointIndexTest, EncodedAsContainerdWritesIt) {
  const std::string text = images::EncodeCheckpointIndex(Sample(), images::Platform{"linux", "amd64", ""});
  // Go's field order.
  EXPECT_EQ(text.rfind(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)", 0),
            0u)
      << text;
  json doc = json::parse(text);
  ASSERT_EQ(doc["manifests"].size(), 3u);
  EXPECT_EQ(doc["manifests"][0]["mediaType"], kMediaTypeCriuTar);
  EXPECT_EQ(doc["manifests"][0]["size"], 1000);
  EXPECT_EQ(doc["manifests"][2]["mediaType"], kMediaTypeOptions);
  EXPECT_EQ(doc["manifests"][1]["platform"], json({{"architecture", "amd64"}, {"os", "linux"}}));
  EXPECT_EQ(doc["annotations"], json({{"io.containerd.checkpoint.runtime", "io.containerd.runc.v2"}}));
  const std::string arm = images::EncodeCheckpointIndex(Sample(), images::Platform{"linux", "arm", "v7"});
  EXPECT_EQ(json::parse(arm)["manifests"][0]["platform"]["variant"], "v7");
  EXPECT_FALSE(json::parse(images::EncodeCheckpointIndex(CheckpointIndex{}, images::Platform{"linux", "amd64", ""})).contains("annotations"));
}

TEST(CheckpointIndexTest, TheBaseImageHasNoPlatformAndAnnotationsComeBeforeIt) {
  CheckpointIndex index = Sample();
  index.manifests.push_back({"application/vnd.oci.image.index.v1+json", "sha256:" + std::string(64, 'd'), 300,
                             {{"org.opencontainers.image.ref.name", "latest"}}, false});
  const std::string text = images::EncodeCheckpointIndex(index, images::Platform{"linux", "amd64", ""});
  json doc = json::parse(text);
  EXPECT_FALSE(doc["manifests"][3].contains("platform")) << text;
  EXPECT_EQ(doc["manifests"][3]["annotations"]["org.opencontainers.image.ref.name"], "latest");
  auto back = images::DecodeCheckpointIndex(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->manifests[3].with_platform);
  EXPECT_TRUE(back->manifests[0].with_platform);
  EXPECT_EQ(back->manifests[3].annotations.at("org.opencontainers.image.ref.name"), "latest");
}

TEST(CheckpointIndexTest, GcLabelsNumberTheManifests) {
  labels::Labels want = {
      {"containerd.io/gc.ref.content.0", "sha256:" + std::string(64, 'a')},
      {"containerd.io/gc.ref.content.1", "sha256:" + std::string(64, 'b')},
      {"containerd.io/gc.ref.content.2", "sha256:" + std::string(64, 'c')},
  };
  EXPECT_EQ(images::CheckpointIndexGcLabels(Sample()), want);
}

TEST(CheckpointIndexTest, ReadBackAndTheCriuTarFound) {
  auto index = images::DecodeCheckpointIndex(images::EncodeCheckpointIndex(Sample(), images::Platform{"linux", "amd64", ""}));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_EQ(index->manifests.size(), 3u);
  EXPECT_EQ(index->annotations.at(kAnnotationRuntime), "io.containerd.runc.v2");
  const IndexEntry* criu = images::FindEntry(*index, kMediaTypeCriuTar);
  ASSERT_NE(criu, nullptr);
  EXPECT_EQ(criu->digest, "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(criu->size, 1000);
  CheckpointIndex no_criu = Sample();
  no_criu.manifests.erase(no_criu.manifests.begin());
  EXPECT_EQ(images::FindEntry(no_criu, kMediaTypeCriuTar), nullptr);
}

TEST(CheckpointIndexTest, WhatIsNotAnIndexIsInvalidArgument) {
  for (const char* text : {"", "[]", "{}", R"({"schemaVersion": 1, "manifests": []})",
                           R"({"schemaVersion": 2})", R"({"schemaVersion": 2, "manifests": [1]})",
                           R"({"schemaVersion": 2, "manifests": [{"mediaType": "x", "size": 1}]})",
                           R"({"schemaVersion": 2, "manifests": [{"mediaType": "x", "digest": "d", "size": -1}]})"}) {
    auto r = images::DecodeCheckpointIndex(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << text;
  }
}

}  // namespace
}  // namespace berth::checkpoint
