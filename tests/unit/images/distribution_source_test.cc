#include "images/distribution_source.h"

#include <gtest/gtest.h>

namespace berth::images {
namespace {

TEST(DistributionSource, AppendSortsAndDropsDuplicates) {
  const std::string key = "containerd.io/distribution.source.reg:5000";
  EXPECT_EQ(DistributionSourceKey("reg:5000"), key);
  EXPECT_EQ(AppendDistributionSource({}, "reg:5000", "lib/b"), (labels::Labels{{key, "lib/b"}}));
  labels::Labels have{{key, "lib/c,,lib/a"}, {"other", "x"}};
  EXPECT_EQ(AppendDistributionSource(have, "reg:5000", "lib/b"), (labels::Labels{{key, "lib/a,lib/b,lib/c"}}));
  EXPECT_EQ(AppendDistributionSource(have, "reg:5000", "lib/a"), (labels::Labels{{key, "lib/a,lib/c"}}));
  // Another registry's label is not this one's.
  EXPECT_EQ(AppendDistributionSource(have, "other:1", "lib/a"),
            (labels::Labels{{"containerd.io/distribution.source.other:1", "lib/a"}}));
}

TEST(DistributionSource, TooLongIsSkipped) {
  labels::Labels have{{DistributionSourceKey("r"), std::string(4090, 'a')}};
  EXPECT_TRUE(AppendDistributionSource(have, "r", "b").empty());
}

TEST(DistributionSource, ParsesTheRepositoriesOfOneHost) {
  labels::Labels have{{DistributionSourceKey("r"), "a/x,,b/y,"}, {DistributionSourceKey("s"), "c"}};
  EXPECT_EQ(DistributionSources(have, "r"), (std::vector<std::string>{"a/x", "b/y"}));
  EXPECT_EQ(DistributionSources(have, "s"), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(DistributionSources(have, "t").empty());
}

}  // namespace
}  // namespace berth::images
