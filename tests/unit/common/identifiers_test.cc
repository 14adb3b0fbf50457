#include "common/identifiers.h"

#include <gtest/gtest.h>

#include <string>

#include "common/labels.h"

namespace berth {
namespace {

TEST(IdentifiersTest, AcceptsContainerdIdentifiers) {
  for (const char* id : {"a", "default", "k8s.io", "foo-bar_baz.1", "A1", "0", "a.b.c",
                         "moby", "x-y-z"}) {
    EXPECT_TRUE(identifiers::Validate(id).ok()) << id;
  }
  EXPECT_TRUE(identifiers::Validate(std::string(76, 'a')).ok());
}

TEST(IdentifiersTest, RejectsWithInvalidArgument) {
  for (const char* id : {"", "-a", "a-", "a..b", "a_-b", ".a", "a/b", "a b", "ä", "a:b",
                         "UPPER/lower", "_"}) {
    Status st = identifiers::Validate(id);
    EXPECT_TRUE(st.Is(Errc::kInvalidArgument)) << id;
  }
  Status long_id = identifiers::Validate(std::string(77, 'a'));
  EXPECT_TRUE(long_id.Is(Errc::kInvalidArgument));
  EXPECT_NE(long_id.ToString().find("greater than maximum length (76 characters)"), std::string::npos);
  EXPECT_EQ(identifiers::Validate("").ToString(), "identifier must not be empty: invalid argument");
  EXPECT_EQ(identifiers::Validate("a/b").ToString(),
            "identifier \"a/b\" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument");
}

TEST(IdentifiersLabelsTest, SizeLimitIsKeyPlusValue) {
  EXPECT_TRUE(labels::Validate(std::string(2048, 'k'), std::string(2048, 'v')).ok());
  EXPECT_TRUE(labels::Validate(std::string(2048, 'k'), std::string(2049, 'v')).Is(Errc::kInvalidArgument));
}

TEST(IdentifiersLabelsTest, ParseKeyValues) {
  auto r = labels::ParseKeyValues({"a=b", "c=", "d", "e=f=g"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"], "b");
  EXPECT_EQ((*r)["c"], "");
  EXPECT_EQ((*r)["d"], "");
  EXPECT_EQ((*r)["e"], "f=g");
  EXPECT_FALSE(labels::ParseKeyValues({"=x"}).ok());
}

TEST(IdentifiersLabelsTest, ApplyMask) {
  labels::Labels cur{{"a", "1"}, {"b", "2"}};
  std::vector<std::string> rest;
  ASSERT_TRUE(labels::ApplyMask(cur, {{"a", "9"}}, {"labels.a", "labels.b", "image"}, &rest).ok());
  EXPECT_EQ(cur, (labels::Labels{{"a", "9"}}));
  EXPECT_EQ(rest, std::vector<std::string>{"image"});
  ASSERT_TRUE(labels::ApplyMask(cur, {{"z", "1"}}, {"labels"}, nullptr).ok());
  EXPECT_EQ(cur, (labels::Labels{{"z", "1"}}));
  EXPECT_FALSE(labels::ApplyMask(cur, {}, {"image"}, nullptr).ok());
}

}  // namespace
}  // namespace berth
