// The checkpoint image's index: containerd's JSON and gc labels, and reading it back.
#include "checkpoint/index.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checkpoint/media_types.h"

namespace berth::checkpoint {
namespace {

using nlohmann::json;

Index Sample() {
  Index index;
  index.manifests = {
      {kMediaTypeCriuTar, "sha256:" + std::string(64, 'a'), 1000},
      {kMediaTypeConfig, "sha256:" + std::string(64, 'b'), 200},
      {kMediaTypeOptions, "sha256:" + std::string(64, 'c'), 4},
  };
  index.annotations[kAnnotationRuntime] = "io.containerd.runc.v2";
  return index;
}

TEST(CheckpointIndexTest, EncodedAsContainerdWritesIt) {
  const std::string text = EncodeIndex(Sample(), images::Platform{"linux", "amd64", ""});
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
  const std::string arm = EncodeIndex(Sample(), images::Platform{"linux", "arm", "v7"});
  EXPECT_EQ(json::parse(arm)["manifests"][0]["platform"]["variant"], "v7");
  EXPECT_FALSE(json::parse(EncodeIndex(Index{}, images::Platform{"linux", "amd64", ""})).contains("annotations"));
}

TEST(CheckpointIndexTest, GcLabelsNumberTheManifests) {
  labels::Labels want = {
      {"containerd.io/gc.ref.content.0", "sha256:" + std::string(64, 'a')},
      {"containerd.io/gc.ref.content.1", "sha256:" + std::string(64, 'b')},
      {"containerd.io/gc.ref.content.2", "sha256:" + std::string(64, 'c')},
  };
  EXPECT_EQ(IndexGcLabels(Sample()), want);
}

TEST(CheckpointIndexTest, ReadBackAndTheCriuTarFound) {
  auto index = DecodeIndex(EncodeIndex(Sample(), images::Platform{"linux", "amd64", ""}));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_EQ(index->manifests.size(), 3u);
  EXPECT_EQ(index->annotations.at(kAnnotationRuntime), "io.containerd.runc.v2");
  const Blob* criu = FindManifest(*index, kMediaTypeCriuTar);
  ASSERT_NE(criu, nullptr);
  EXPECT_EQ(criu->digest, "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(criu->size, 1000);
  Index no_criu = Sample();
  no_criu.manifests.erase(no_criu.manifests.begin());
  EXPECT_EQ(FindManifest(no_criu, kMediaTypeCriuTar), nullptr);
}

TEST(CheckpointIndexTest, WhatIsNotAnIndexIsInvalidArgument) {
  for (const char* text : {"", "[]", "{}", R"({"schemaVersion": 1, "manifests": []})",
                           R"({"schemaVersion": 2})", R"({"schemaVersion": 2, "manifests": [1]})",
                           R"({"schemaVersion": 2, "manifests": [{"mediaType": "x", "size": 1}]})",
                           R"({"schemaVersion": 2, "manifests": [{"mediaType": "x", "digest": "d", "size": -1}]})"}) {
    auto r = DecodeIndex(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << text;
  }
}

}  // namespace
}  // namespace berth::checkpoint
