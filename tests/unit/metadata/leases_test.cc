#include "metadata/leases.h"

#include <gtest/gtest.h>

#include <set>

#include "common/identifiers.h"
#include "metadata/namespaces.h"
#include "support/store_test_fixture.h"

namespace berth::metadata {
namespace {

using lease_resources::Resource;

constexpr const char* kDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

class LeasesStoreTest : public StoreTest {
 protected:
  Result<Lease> Create(const std::string& ns, Lease lease) {
    return InUpdate<Lease>([&](Tx& tx) { return leases::Create(tx, ns, lease); });
  }
  Result<std::vector<std::string>> ListIds(const std::string& ns, std::vector<std::string> filters = {}) {
    return InView<std::vector<std::string>>([&](Tx& tx) -> Result<std::vector<std::string>> {
      BERTH_ASSIGN_OR_RETURN(auto all, leases::List(tx, ns, filters));
      std::vector<std::string> ids;
      for (const auto& l : all) ids.push_back(l.id);
      return ids;
    });
  }
  Status Add(const std::string& ns, const std::string& id, Resource r) {
    return Update([&](Tx& tx) { return leases::AddResource(tx, ns, id, r); });
  }
  Status Remove(const std::string& ns, const std::string& id, Resource r) {
    return Update([&](Tx& tx) { return leases::DeleteResource(tx, ns, id, r); });
  }
  Result<std::vector<Resource>> Resources(const std::string& ns, const std::string& id) {
    return InView<std::vector<Resource>>([&](Tx& tx) { return leases::ListResources(tx, ns, id); });
  }
};

TEST_F(LeasesStoreTest, CreateListDelete) {
  auto l = Create("ns", Lease{"l1", {{"containerd.io/gc.expire", "2030-01-01T00:00:00Z"}, {"e", ""}}, {}});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_NE(l->created_at, TimePoint{});
  EXPECT_EQ(l->labels, (labels::Labels{{"containerd.io/gc.expire", "2030-01-01T00:00:00Z"}}));
  EXPECT_TRUE(*InView<bool>([](Tx& tx) { return namespaces::Exists(tx, "ns"); }));

  auto all = InView<std::vector<Lease>>([](Tx& tx) { return leases::List(tx, "ns", {}); });
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "l1");
  EXPECT_EQ((*all)[0].labels, l->labels);
  EXPECT_EQ((*all)[0].created_at, l->created_at);

  EXPECT_EQ(Create("ns", Lease{"l1", {}, {}}).status().ToString(), "lease \"l1\": already exists");
  ASSERT_TRUE(Update([](Tx& tx) { return leases::Delete(tx, "ns", "l1"); }).ok());
  EXPECT_EQ(Update([](Tx& tx) { return leases::Delete(tx, "ns", "l1"); }).ToString(),
            "lease \"l1\": not found");
  EXPECT_TRUE(ListIds("ns")->empty());
  // Leases do not keep a namespace from being deleted... and go with it.
  ASSERT_TRUE(Create("ns", Lease{"l2", {{"a", "b"}}, {}}).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Delete(tx, "ns"); }).ok());
  EXPECT_TRUE(ListIds("ns")->empty());
}

TEST_F(LeasesStoreTest, Validation) {
  EXPECT_TRUE(Create("ns", Lease{"", {}, {}}).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(Create("ns", Lease{"x", {{"k", std::string(labels::kMaxSize, 'v')}}, {}})
                  .status().Is(Errc::kInvalidArgument));
  // Ids need not be identifiers (containerd's clients make ids like "123-a_-b").
  EXPECT_TRUE(Create("ns", Lease{"123-a_-b", {}, {}}).ok());
}

TEST_F(LeasesStoreTest, RandomIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(leases::RandomId());
  EXPECT_GT(ids.size(), 95u);
  std::string id = leases::RandomId();
  auto dash = id.find('-');
  ASSERT_NE(dash, std::string::npos);
  EXPECT_EQ(id.size() - dash - 1, 4u);  // 3 random bytes in base64url
}

TEST_F(LeasesStoreTest, ListFilters) {
  ASSERT_TRUE(Create("ns", Lease{"b", {{"gc", "x"}}, {}}).ok());
  ASSERT_TRUE(Create("ns", Lease{"a", {{"owner", "me"}}, {}}).ok());
  ASSERT_TRUE(Create("other", Lease{"c", {}, {}}).ok());
  EXPECT_EQ(*ListIds("ns"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*ListIds("ns", {"id==b"}), (std::vector<std::string>{"b"}));
  EXPECT_EQ(*ListIds("ns", {"labels.owner==me"}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*ListIds("ns", {"labels.gc", "id==a"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ListIds("ns", {"id=="}).status().Is(Errc::kInvalidArgument));
}

TEST_F(LeasesStoreTest, Resources) {
  ASSERT_TRUE(Create("ns", Lease{"l", {}, {}}).ok());
  ASSERT_TRUE(Add("ns", "l", {"snapshots/overlayfs", "key1"}).ok());
  ASSERT_TRUE(Add("ns", "l", {"ingests", "ref1"}).ok());
  ASSERT_TRUE(Add("ns", "l", {"content", kDigest}).ok());
  ASSERT_TRUE(Add("ns", "l", {"content", kDigest}).ok());  // twice is fine
  auto rs = Resources("ns", "l");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->size(), 3u);
  EXPECT_EQ((*rs)[0].type, "content");
  EXPECT_EQ((*rs)[0].id, kDigest);
  EXPECT_EQ((*rs)[1].type, "ingests");
  EXPECT_EQ((*rs)[2].type, "snapshots/overlayfs");
  EXPECT_EQ((*rs)[2].id, "key1");

  ASSERT_TRUE(Remove("ns", "l", {"ingests", "ref1"}).ok());
  ASSERT_TRUE(Remove("ns", "l", {"ingests", "never-added"}).ok());
  EXPECT_EQ(Resources("ns", "l")->size(), 2u);

  // containerd's errors.
  EXPECT_EQ(Add("ns", "nope", {"content", kDigest}).ToString(), "lease \"nope\": not found");
  EXPECT_EQ(Remove("ns", "nope", {"content", kDigest}).ToString(), "lease \"nope\": not found");
  EXPECT_EQ(Resources("ns", "nope").status().ToString(), "lease \"nope\": not found");
  EXPECT_EQ(Add("ns", "l", {"content", "sha256:zz"}).ToString(),
            "invalid content resource id sha256:zz: invalid checksum digest length: invalid argument");
  EXPECT_EQ(Add("ns", "l", {"content/x", kDigest}).ToString(),
            "invalid resource type content/x: invalid argument");
  EXPECT_EQ(Add("ns", "l", {"snapshots", "k"}).ToString(),
            "invalid snapshot resource type snapshots: invalid argument");
  Status unknown = Add("ns", "l", {"volumes", "v"});
  EXPECT_TRUE(unknown.Is(Errc::kNotImplemented)) << unknown.ToString();
  EXPECT_EQ(unknown.message(), "resource type volumes not supported yet");

  // Resources go with the lease.
  ASSERT_TRUE(Update([](Tx& tx) { return leases::Delete(tx, "ns", "l"); }).ok());
  ASSERT_TRUE(Create("ns", Lease{"l", {}, {}}).ok());
  EXPECT_TRUE(Resources("ns", "l")->empty());
}

TEST_F(LeasesStoreTest, ResourceRemovedFromAllLeases) {
  ASSERT_TRUE(Create("ns", Lease{"a", {}, {}}).ok());
  ASSERT_TRUE(Create("ns", Lease{"b", {}, {}}).ok());
  ASSERT_TRUE(Create("other", Lease{"a", {}, {}}).ok());
  for (const char* lease : {"a", "b"}) {
    ASSERT_TRUE(Add("ns", lease, {"snapshots/overlayfs", "key1"}).ok());
    ASSERT_TRUE(Add("ns", lease, {"snapshots/overlayfs", "key2"}).ok());
  }
  ASSERT_TRUE(Add("other", "a", {"snapshots/overlayfs", "key1"}).ok());

  ASSERT_TRUE(Update([](Tx& tx) {
                return lease_resources::RemoveFromAllLeases(tx, "ns", "snapshots/overlayfs", "key1");
              }).ok());
  for (const char* lease : {"a", "b"}) {
    auto rs = Resources("ns", lease);
    ASSERT_TRUE(rs.ok()) << rs.status().ToString();
    ASSERT_EQ(rs->size(), 1u) << lease;
    EXPECT_EQ((*rs)[0].id, "key2");
  }
  EXPECT_EQ(Resources("other", "a")->size(), 1u) << "another namespace keeps its own";
  EXPECT_TRUE(Update([](Tx& tx) {
                return lease_resources::RemoveFromAllLeases(tx, "ns", "ingests", "never-added");
              }).ok());
}

}  // namespace
}  // namespace berth::metadata
