// digest: parsing and the one hasher.
#include "common/digest.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

constexpr const char* kHelloSha256 = "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

TEST(DigestTest, ParseValidates) {
  auto d = ParseDigest(kHelloSha256);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->algorithm, "sha256");
  EXPECT_EQ(d->String(), kHelloSha256);
  EXPECT_TRUE(ParseDigest("sha256:abc").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseDigest("md5:" + std::string(32, 'a')).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(ParseDigest("sha256").status().Is(Errc::kInvalidArgument));
}

TEST(DigestTest, IncrementalEqualsOneShot) {
  auto h = Hasher::New("sha256");
  ASSERT_TRUE(h.ok());
  h->Update("hello ");
  EXPECT_EQ(h->Peek(), Sha256Of("hello "));
  h->Update(std::string_view("world"));
  EXPECT_EQ(h->Finish().String(), kHelloSha256);
  EXPECT_EQ(Sha256Of("hello world").String(), kHelloSha256);
  auto sha512 = DigestOf("sha512", "hello world");
  ASSERT_TRUE(sha512.ok());
  EXPECT_EQ(sha512->hex.size(), 128u);
  EXPECT_TRUE(Hasher::New("md5").status().Is(Errc::kInvalidArgument));
}

TEST(DigestTest, ForDigestPicksTheAlgorithm) {
  auto h = Hasher::ForDigest(kHelloSha256);
  ASSERT_TRUE(h.ok());
  h->Update("hello world");
  EXPECT_EQ(h->Finish().String(), kHelloSha256);
  EXPECT_TRUE(Hasher::ForDigest("sha512:whatever").ok());
  EXPECT_FALSE(Hasher::ForDigest("md5:abc").ok());
  EXPECT_FALSE(Hasher::ForDigest("nocolon").ok());
}

}  // namespace
}  // namespace berth
