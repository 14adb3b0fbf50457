// The snapshot records: containerd's metastore rules (kinds, parents, commits keeping ids,
// errors) over the metadata DB.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/filters.h"
#include "metadata/namespaces.h"
#include "snapshots/metastore.h"
#include "support/store_test_fixture.h"

namespace berth::snapshots {
namespace {

using ::testing::ElementsAre;
using metadata::Tx;
namespace ms = metastore;

constexpr std::string_view kSn = "overlayfs";

class MetastoreTest : public metadata::StoreTest {
 protected:
  // Creates `key` (kind, parent) with a fresh id; returns the record.
  Result<ms::Record> Create(std::string_view ns, std::string_view key, std::string_view parent,
                            Kind kind = Kind::kActive, labels::Labels labels = {}) {
    return InUpdate<ms::Record>([&](Tx& tx) -> Result<ms::Record> {
      BERTH_ASSIGN_OR_RETURN(int64_t id, ms::NextId(tx, kSn));
      return ms::Insert(tx, kSn, ns, id, kind, key, parent, labels);
    });
  }
  Result<ms::Record> Commit(std::string_view ns, std::string_view name, std::string_view key,
                            labels::Labels labels = {}) {
    return InUpdate<ms::Record>([&](Tx& tx) { return ms::Commit(tx, kSn, ns, name, key, labels, DiskUsage{4096, 2}); });
  }
  Result<ms::Record> Get(std::string_view ns, std::string_view key) {
    return InView<ms::Record>([&](Tx& tx) { return ms::Get(tx, kSn, ns, key); });
  }
};

TEST_F(MetastoreTest, PrepareCommitChainAndIds) {
  auto k1 = Create("ns", "K1", "", Kind::kActive, {{"a", "1"}});
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  EXPECT_EQ(k1->info.kind, Kind::kActive);
  EXPECT_EQ(k1->info.labels, (labels::Labels{{"a", "1"}}));

  auto c1 = Commit("ns", "C1", "K1", {{"b", "2"}});
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_EQ(c1->id, k1->id) << "a commit keeps the directory";
  auto got = Get("ns", "C1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->info.kind, Kind::kCommitted);
  EXPECT_EQ(got->info.labels, (labels::Labels{{"b", "2"}})) << "labels replaced, not inherited";
  EXPECT_EQ(got->usage.size, 4096);
  EXPECT_EQ(got->usage.inodes, 2);
  EXPECT_TRUE(Get("ns", "K1").status().Is(Errc::kNotFound));
  EXPECT_EQ(Get("ns", "K1").status().ToString(), "snapshot K1 does not exist: not found");

  ASSERT_TRUE(Create("ns", "K2", "C1").ok());
  ASSERT_TRUE(Commit("ns", "C2", "K2").ok());
  auto k3 = Create("ns", "K3", "C2");
  ASSERT_TRUE(k3.ok());
  auto chain = InView<std::vector<int64_t>>([&](Tx& tx) { return ms::ParentChain(tx, kSn, "ns", "C2"); });
  ASSERT_TRUE(chain.ok());
  EXPECT_THAT(*chain, ElementsAre(Get("ns", "C2")->id, c1->id)) << "nearest parent first";
  EXPECT_GT(k3->id, c1->id);
}

TEST_F(MetastoreTest, CreateErrorsAreContainerds) {
  ASSERT_TRUE(Create("ns", "K1", "").ok());
  auto taken = Create("ns", "K1", "");
  EXPECT_TRUE(taken.status().Is(Errc::kAlreadyExists));
  EXPECT_EQ(taken.status().message(), "snapshot \"K1\"");

  auto missing = Create("ns", "K2", "nope");
  EXPECT_TRUE(missing.status().Is(Errc::kNotFound));
  EXPECT_EQ(missing.status().message(), "parent snapshot nope does not exist");

  auto active_parent = Create("ns", "K2", "K1");
  EXPECT_TRUE(active_parent.status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(active_parent.status().message(), "parent \"K1\" is not committed snapshot");

  EXPECT_TRUE(Create("ns", "", "").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(Create("ns", "K3", "", Kind::kCommitted).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(Create("ns", "K3", "", Kind::kActive, {{"", "x"}}).status().Is(Errc::kInvalidArgument));

  // Keys are per namespace and per snapshotter.
  EXPECT_TRUE(Create("other", "K1", "").ok());

  // The snapshot.ref target taken: AlreadyExists naming the target (unpack skips the layer).
  ASSERT_TRUE(Commit("ns", "sha256:layer", "K1").ok());
  auto target = Create("ns", "extract-1", "", Kind::kActive, {{"containerd.io/snapshot.ref", "sha256:layer"}});
  EXPECT_TRUE(target.status().Is(Errc::kAlreadyExists));
  EXPECT_EQ(target.status().message(), "target snapshot \"sha256:layer\"");
}

TEST_F(MetastoreTest, CommitErrors) {
  ASSERT_TRUE(Create("ns", "K1", "").ok());
  ASSERT_TRUE(Create("ns", "K2", "").ok());
  EXPECT_EQ(Commit("ns", "K2", "K1").status().ToString(), "snapshot \"K2\": already exists");
  EXPECT_TRUE(Commit("ns", "C", "nope").status().Is(Errc::kNotFound));
  ASSERT_TRUE(Commit("ns", "C1", "K1").ok());
  ASSERT_TRUE(Create("ns", "V", "C1", Kind::kView).ok());
  auto view = Commit("ns", "C2", "V");
  EXPECT_TRUE(view.status().Is(Errc::kFailedPrecondition));
  EXPECT_EQ(view.status().message(), "snapshot \"V\" is not active");
}

TEST_F(MetastoreTest, RemoveRefusesParentsOfChildren) {
  ASSERT_TRUE(Create("ns", "K1", "").ok());
  ASSERT_TRUE(Commit("ns", "C1", "K1").ok());
  ASSERT_TRUE(Create("ns", "K2", "C1").ok());
  auto rm = [&](std::string_view key) {
    return InUpdate<ms::Record>([&](Tx& tx) { return ms::Remove(tx, kSn, "ns", key); });
  };
  auto busy = rm("C1");
  EXPECT_TRUE(busy.status().Is(Errc::kFailedPrecondition));
  EXPECT_EQ(busy.status().ToString(), "cannot remove snapshot with child: failed precondition");
  EXPECT_TRUE(rm("K2").ok());
  EXPECT_TRUE(rm("C1").ok());
  EXPECT_TRUE(rm("C1").status().Is(Errc::kNotFound));
  // Ids are never reused.
  auto next = Create("ns", "K1", "");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 3);
}

TEST_F(MetastoreTest, UpdateLabelsByMask) {
  ASSERT_TRUE(Create("ns", "K1", "", Kind::kActive, {{"a", "1"}, {"b", "2"}}).ok());
  auto update = [&](Info info, std::vector<std::string> paths) {
    return InUpdate<ms::Record>([&](Tx& tx) { return ms::UpdateLabels(tx, kSn, "ns", info, paths); });
  };
  auto r = update(Info{.name = "K1", .labels = {{"c", "3"}}}, {"labels.c", "labels.a"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->info.labels, (labels::Labels{{"b", "2"}, {"c", "3"}}));
  r = update(Info{.name = "K1", .labels = {{"x", "y"}}}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Get("ns", "K1")->info.labels, (labels::Labels{{"x", "y"}}));
  auto bad = update(Info{.name = "K1"}, {"parent"});
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(bad.status().message(), "cannot update \"parent\" field on snapshot \"K1\"");
  EXPECT_TRUE(update(Info{.name = "nope"}, {}).status().Is(Errc::kNotFound));
  EXPECT_TRUE(update(Info{}, {}).status().Is(Errc::kInvalidArgument));
}

TEST_F(MetastoreTest, FiltersSeeKindNameParentLabels) {
  ASSERT_TRUE(Create("ns", "K1", "").ok());
  ASSERT_TRUE(Commit("ns", "C1", "K1", {{"containerd.io/gc.root", "x"}}).ok());
  ASSERT_TRUE(Create("ns", "K2", "C1").ok());
  ASSERT_TRUE(Create("ns", "V1", "C1", Kind::kView).ok());
  auto list = InView<std::vector<ms::Record>>([&](Tx& tx) { return ms::List(tx, kSn, "ns"); });
  ASSERT_TRUE(list.ok());
  auto match = [&](const std::string& f) {
    auto filter = filters::ParseAll(std::vector<std::string>{f});
    EXPECT_TRUE(filter.ok());
    std::vector<std::string> out;
    for (const auto& r : *list) {
      if ((*filter)->Match(ms::Adapt(r.info))) out.push_back(r.info.name);
    }
    return out;
  };
  EXPECT_THAT(match("kind==committed"), ElementsAre("C1"));
  EXPECT_THAT(match("kind==view"), ElementsAre("V1"));
  EXPECT_THAT(match("parent==C1"), ElementsAre("K2", "V1"));
  EXPECT_THAT(match("name~=^K"), ElementsAre("K2"));
  EXPECT_THAT(match("labels.\"containerd.io/gc.root\""), ElementsAre("C1"));
}

TEST_F(MetastoreTest, NamespaceWithSnapshotsIsNotEmpty) {
  ASSERT_TRUE(Create("ns", "K1", "").ok());
  Status st = Update([](Tx& tx) { return metadata::namespaces::Delete(tx, "ns"); });
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition));
  EXPECT_EQ(st.message(), "namespace \"ns\" must be empty, but it still has snapshots on \"overlayfs\" snapshotter");
}

}  // namespace
}  // namespace berth::snapshots
