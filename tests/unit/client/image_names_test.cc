// Image names in archives: docker normalization, the familiar form of manifest.json, the OCI
// ref name and ctr import's prefixing (containerd's images/archive/reference.go).
#include <gtest/gtest.h>

#include "client/image_names.h"

namespace berth::client {
namespace {

TEST(ImageNamesTest, NormalizeDockerRefAddsDomainLibraryAndTag) {
  EXPECT_EQ(*NormalizeDockerRef("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(*NormalizeDockerRef("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(*NormalizeDockerRef("berth/docker:1"), "docker.io/berth/docker:1");
  EXPECT_EQ(*NormalizeDockerRef("index.docker.io/library/alpine"), "docker.io/library/alpine:latest");
  EXPECT_EQ(*NormalizeDockerRef("127.0.0.1:5000/a/b:v2"), "127.0.0.1:5000/a/b:v2");
  EXPECT_EQ(*NormalizeDockerRef("localhost/x"), "localhost/x:latest");
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(*NormalizeDockerRef("busybox:1@" + digest), "docker.io/library/busybox@" + digest)
      << "a digest drops the tag";
}

TEST(ImageNamesTest, NormalizeDockerRefRejectsMalformedNames) {
  for (const char* bad : {"", "Busybox", "busybox:", "busybox:-x", "a//b", "busybox@sha256:12"}) {
    auto r = NormalizeDockerRef(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << bad;
      EXPECT_NE(r.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
          << r.status().message();
    }
  }
}

TEST(ImageNamesTest, FamiliarizeRefShortensDockerHubNames) {
  EXPECT_EQ(*FamiliarizeRef("docker.io/library/busybox:latest"), "busybox:latest");
  EXPECT_EQ(*FamiliarizeRef("docker.io/berth/x:1"), "berth/x:1");
  EXPECT_EQ(*FamiliarizeRef("docker.io/library/busybox"), "busybox:latest");
  EXPECT_EQ(*FamiliarizeRef("127.0.0.1:5000/berth/x:1"), "127.0.0.1:5000/berth/x:1");
}

TEST(ImageNamesTest, OciRefNameIsWhatFollowsTheRepository) {
  EXPECT_EQ(OciRefName("docker.io/library/busybox:latest"), "latest");
  EXPECT_EQ(OciRefName("127.0.0.1:5000/berth/x:1"), "1");
  const std::string digest = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(OciRefName("host/x@" + digest), "@" + digest);
  EXPECT_EQ(OciRefName("host/x:1@" + digest), "1@" + digest);
  EXPECT_EQ(OciRefName("host/x"), "");
  EXPECT_EQ(OciRefName("plain"), "plain");
}

TEST(ImageNamesTest, TranslateRefNamePrefixesTagsAndFiltersByPrefix) {
  EXPECT_EQ(TranslateRefName("latest", "foo/bar", false), "foo/bar:latest");
  EXPECT_EQ(TranslateRefName("other/x:1", "foo/bar", false), "other/x:1");
  EXPECT_EQ(TranslateRefName("other/x:1", "foo/bar", true), "");
  EXPECT_EQ(TranslateRefName("foo/bar:1", "foo/bar", true), "foo/bar:1");
  EXPECT_EQ(TranslateRefName("foo/bar/sub:1", "foo/bar", true), "foo/bar/sub:1");
  EXPECT_EQ(TranslateRefName("foo/barn:1", "foo/bar", true), "") << "not a partial name";
}

}  // namespace
}  // namespace berth::client
