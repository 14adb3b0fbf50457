// The pure part of unpacking: layers paired with diff ids and chain ids, extraction keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/unpack_plan.h"
#include "images/rootfs.h"

namespace berth::client {
namespace {

images::BlobDescriptor Layer(char c) {
  return {"application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + std::string(64, c), 10, {}, std::nullopt};
}

TEST(UnpackPlanTest, PairsLayersWithDiffIdsAndChainIds) {
  const std::vector<std::string> diff_ids = {"sha256:" + std::string(64, '1'), "sha256:" + std::string(64, '2'),
                                             "sha256:" + std::string(64, '3')};
  auto plan = PlanUnpack({Layer('a'), Layer('b'), Layer('c')}, diff_ids);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 3u);
  const auto chain = images::ChainIds(diff_ids);
  EXPECT_EQ((*plan)[0].chain_id, diff_ids[0]) << "the first chain id is the first diff id";
  EXPECT_EQ((*plan)[0].parent, "");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*plan)[i].blob.digest, Layer(static_cast<char>('a' + i)).digest);
    EXPECT_EQ((*plan)[i].diff_id, diff_ids[i]);
    EXPECT_EQ((*plan)[i].chain_id, chain[i]);
    if (i > 0) {
      EXPECT_EQ((*plan)[i].parent, chain[i - 1]);
    }
  }
}

TEST(UnpackPlanTest, MismatchedCountsAreInvalid) {
  auto plan = PlanUnpack({Layer('a'), Layer('b')}, {"sha256:" + std::string(64, '1')});
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(plan.status().Is(Errc::kInvalidArgument));
  EXPECT_THAT(plan.status().message(), ::testing::HasSubstr("mismatched image rootfs and manifest layers"));
  EXPECT_TRUE(PlanUnpack({}, {}).ok());
}

TEST(UnpackPlanTest, KeysFollowContainerdsUnpackKeyFormat) {
  const std::string chain = "sha256:" + std::string(64, 'f');
  EXPECT_EQ(UnpackKey("12-abcd", chain), "extract-12-abcd " + chain);
  const std::string unique = UnpackUniquePart();
  EXPECT_THAT(unique, ::testing::MatchesRegex("[0-9]+-[A-Za-z0-9_-]{4}"));
  EXPECT_NE(UnpackUniquePart() + UnpackUniquePart(), unique + unique) << "random";
  EXPECT_EQ(GcRefSnapshotLabel("overlayfs"), "containerd.io/gc.ref.snapshot.overlayfs");
}

}  // namespace
}  // namespace berth::client
