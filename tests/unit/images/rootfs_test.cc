// Diff ids, chain ids and mount lease ids for `berth images mount` (cmd/berth/image_rootfs.h),
// and platform parsing. Expected digests computed independently with sha256sum(1).
#include "images/rootfs.h"

#include <gtest/gtest.h>

#include "images/walk.h"

namespace berth::cli {
using namespace ::berth::images;  // the image model (src/images) is the CLI's vocabulary
namespace {

constexpr const char* kA = "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1";
constexpr const char* kB = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
constexpr const char* kC = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
// printf '%s %s' A B | sha256sum
constexpr const char* kAB = "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f";
// printf '%s %s' AB C | sha256sum
constexpr const char* kABC = "sha256:5746d8988d25982d8b8e4e833a7bbd084707c7a86356bb6f8c5e9843ec144393";

TEST(RootfsTest, Sha256DigestOfKnownInputs) {
  EXPECT_EQ(Sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Digest(std::string(kA) + " " + kB), kAB);
}

TEST(RootfsTest, ChainIdsFollowTheIdentityRecursion) {
  EXPECT_TRUE(ChainIds({}).empty());
  EXPECT_EQ(ChainId({}), "");
  // One layer: the chain id is the diff id itself.
  EXPECT_EQ(ChainIds({kA}), std::vector<std::string>({kA}));
  EXPECT_EQ(ChainIds({kA, kB, kC}), std::vector<std::string>({kA, kAB, kABC}));
  EXPECT_EQ(ChainId({kA, kB, kC}), kABC);
  // Order matters.
  EXPECT_NE(ChainId({kB, kA}), kAB);
}

TEST(RootfsTest, ConfigDiffIdsReadsTheRootfs) {
  auto ids = ConfigDiffIds(R"({"architecture":"amd64","os":"linux",
      "rootfs":{"type":"layers","diff_ids":[")" + std::string(kA) + R"(",")" + kB + R"("]}})");
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, std::vector<std::string>({kA, kB}));

  auto none = ConfigDiffIds(R"({"rootfs":{"type":"layers"}})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(RootfsTest, ConfigDiffIdsRejectsWhatIsNoImageConfig) {
  for (const char* bad : {"", "[]", "not json", R"({"os":"linux"})",
                          R"({"rootfs":{"type":"tarball","diff_ids":[]}})",
                          R"({"rootfs":{"type":"layers","diff_ids":"sha256:x"}})",
                          R"({"rootfs":{"type":"layers","diff_ids":[1]}})"}) {
    auto ids = ConfigDiffIds(bad);
    EXPECT_FALSE(ids.ok()) << bad;
    if (!ids.ok()) {
      EXPECT_TRUE(ids.status().Is(Errc::kInvalidArgument)) << bad;
    }
  }
}

TEST(RootfsTest, MountLeaseIdIsAValidIdentifierPerTarget) {
  // printf /mnt/x | sha256sum -> c10865fc00f31eff...
  EXPECT_EQ(MountLeaseId("/mnt/x"), "berth-mount-c10865fc00f31eff");
  EXPECT_NE(MountLeaseId("/mnt/y"), MountLeaseId("/mnt/x"));
}

TEST(RootfsTest, ParsePlatform) {
  auto p = ParsePlatform("linux/x86_64");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FormatPlatform(*p), "linux/amd64");
  p = ParsePlatform("linux/arm/v6");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FormatPlatform(*p), "linux/arm/v6");
  p = ParsePlatform("linux");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->architecture, HostPlatform().architecture);
  for (const char* bad : {"", "/", "linux/", "linux//v7", "a/b/c/d"}) {
    EXPECT_FALSE(ParsePlatform(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::cli
