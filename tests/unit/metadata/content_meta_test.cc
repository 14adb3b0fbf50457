// metadata::ContentStore and content_meta: namespaced ownership over the on-disk store,
// shared ("fast") commits, ingests per namespace and lease membership.
#include "metadata/content_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "metadata/lease_resources.h"
#include "metadata/namespaces.h"
#include "metadata/schema.h"

namespace berth::metadata {
namespace {

namespace fs = std::filesystem;

class ContentMetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-content-meta-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = Db::Open(dir_ / "metadata.db", Migrations());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto local = content::LocalStore::Open(dir_ / "content");
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    local_ = std::move(*local);
    store_ = std::make_unique<ContentStore>(*db_, *local_);
  }
  void TearDown() override {
    store_.reset();
    local_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  Status Commit(const ContentScope& scope, const std::string& ref, std::string_view data,
                bool announce = true, const labels::Labels& lbls = {}) {
    std::optional<Digest> expected;
    if (announce) expected = Sha256Of(data);
    auto w = store_->OpenWriter(scope, ref, static_cast<int64_t>(data.size()), expected);
    if (!w.ok()) return w.status();
    // As containerd's content.Copy: write from the offset the writer reports (a shared write
    // reports the blob as complete).
    BERTH_RETURN_IF_ERROR((*w)->Write(data.substr(static_cast<size_t>((*w)->Progress().offset))));
    return (*w)->Commit(static_cast<int64_t>(data.size()), Sha256Of(data), lbls);
  }
  size_t BlobFiles() {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "content" / "blobs")) n += e.is_regular_file();
    return n;
  }
  void CreateLease(const std::string& ns, const std::string& id) {
    Status st = db_->Update([&](Tx& tx) -> Status {
      BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
      BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare("INSERT INTO leases(namespace, id, created_at) VALUES(?1, ?2, 0)"));
      return ins.Bind(1, ns).Bind(2, id).Run();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::set<std::string> LeaseResources(const std::string& ns, const std::string& lease) {
    std::set<std::string> out;
    Status st = db_->View([&](Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto all, lease_resources::List(tx, ns, lease));
      for (const auto& r : all) out.insert(r.type + ":" + r.id);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<content::LocalStore> local_;
  std::unique_ptr<ContentStore> store_;
  const ContentScope a_{"a", std::nullopt};
  const ContentScope b_{"b", std::nullopt};
};

TEST_F(ContentMetaTest, CommitIsOwnedByItsNamespaceOnly) {
  ASSERT_TRUE(Commit(a_, "r", "payload", true, {{"k", "v"}, {"empty", ""}}).ok());
  const Digest d = Sha256Of("payload");
  auto info = store_->Info(a_, d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->digest, d.String());
  EXPECT_EQ(info->size, 7);
  EXPECT_EQ(info->labels, (labels::Labels{{"k", "v"}}));
  EXPECT_GT(info->created_at, 0);

  auto other = store_->Info(b_, d);
  EXPECT_TRUE(other.status().Is(Errc::kNotFound));
  EXPECT_EQ(other.status().ToString(), "content digest " + d.String() + ": not found");
  EXPECT_TRUE(store_->Reader(b_, d).status().Is(Errc::kNotFound));
  auto r = store_->Reader(a_, d);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 7);

  // The commit created the namespace, and a namespace holding blobs cannot be deleted.
  Status del = db_->Update([](Tx& tx) { return namespaces::Delete(tx, "a"); });
  EXPECT_TRUE(del.Is(Errc::kFailedPrecondition)) << del.ToString();
}

TEST_F(ContentMetaTest, SecondNamespaceSharesTheBlobWithoutCopying) {
  ASSERT_TRUE(Commit(a_, "r", "shared bytes").ok());
  const Digest d = Sha256Of("shared bytes");

  auto w = store_->OpenWriter(b_, "r", 0, d);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->shared());
  auto progress = (*w)->Progress();
  EXPECT_EQ(progress.offset, 12) << "a shared write reports the blob as written";
  EXPECT_EQ(progress.total, 12);
  EXPECT_EQ((*w)->CurrentDigest(), d);
  EXPECT_TRUE(fs::is_empty(dir_ / "content" / "ingest")) << "no data is copied";
  // The ingest records what it becomes, so the collector keeps that blob meanwhile.
  std::string expected;
  ASSERT_TRUE(db_->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto rec, content_meta::GetIngest(tx, "b", "r"));
    if (rec) expected = rec->expected;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(expected, d.String());

  ASSERT_TRUE((*w)->Commit(0, d, {{"from", "b"}}).ok());
  EXPECT_EQ((*w)->committed(), d);
  auto info = store_->Info(b_, d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 12);
  EXPECT_EQ(info->labels, (labels::Labels{{"from", "b"}}));
  EXPECT_EQ(BlobFiles(), 1u);

  // Already owned: AlreadyExists before any data moves.
  auto again = store_->OpenWriter(b_, "r2", 0, d);
  EXPECT_TRUE(again.status().Is(Errc::kAlreadyExists));
  EXPECT_EQ(again.status().ToString(), "content " + d.String() + ": already exists");
}

TEST_F(ContentMetaTest, SecondNamespaceWritingDataStillStoresOnce) {
  ASSERT_TRUE(Commit(a_, "r", "twice").ok());
  // Without announcing the digest the data is written, and the commit finds the blob there.
  ASSERT_TRUE(Commit(b_, "r", "twice", /*announce=*/false).ok());
  EXPECT_TRUE(store_->Info(b_, Sha256Of("twice")).ok());
  EXPECT_EQ(BlobFiles(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "content" / "ingest"));
}

TEST_F(ContentMetaTest, SharedWriteTurnsRealWhenRestarted) {
  ASSERT_TRUE(Commit(a_, "r", "base").ok());
  auto w = store_->OpenWriter(b_, "r", 0, Sha256Of("base"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->shared());
  ASSERT_TRUE((*w)->Truncate(0).ok());
  EXPECT_FALSE((*w)->shared());
  EXPECT_EQ((*w)->Progress().offset, 0);
  ASSERT_TRUE((*w)->Write("new data").ok());
  ASSERT_TRUE((*w)->Commit(8, Sha256Of("new data"), {}).ok());
  EXPECT_TRUE(store_->Info(b_, Sha256Of("new data")).ok());
  EXPECT_EQ(BlobFiles(), 2u);
}

TEST_F(ContentMetaTest, DeleteDropsOnlyThatNamespacesOwnership) {
  ASSERT_TRUE(Commit(a_, "r", "keep me").ok());
  ASSERT_TRUE(Commit(b_, "r", "keep me").ok());
  const Digest d = Sha256Of("keep me");
  ASSERT_TRUE(store_->Delete(a_, d).ok());
  EXPECT_TRUE(store_->Info(a_, d).status().Is(Errc::kNotFound));
  EXPECT_TRUE(store_->Delete(a_, d).Is(Errc::kNotFound));
  EXPECT_TRUE(store_->Info(b_, d).ok());
  EXPECT_TRUE(local_->Info(d).ok()) << "the file goes with the garbage collector, not with Delete";
}

TEST_F(ContentMetaTest, UpdateLabelsWithAndWithoutMask) {
  ASSERT_TRUE(Commit(a_, "r", "labelled", true, {{"x", "1"}, {"y", "2"}}).ok());
  const Digest d = Sha256Of("labelled");
  auto info = store_->Update(a_, d, {{"x", "10"}, {"z", "3"}}, {"labels.x", "labels.y"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->labels, (labels::Labels{{"x", "10"}})) << "y absent from the update: deleted; z not in the mask";
  info = store_->Update(a_, d, {{"only", "this"}}, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (labels::Labels{{"only", "this"}}));
  info = store_->Update(a_, d, {{"all", "new"}}, {"labels"});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (labels::Labels{{"all", "new"}}));
  EXPECT_EQ(store_->Info(a_, d)->labels, (labels::Labels{{"all", "new"}}));

  auto bad = store_->Update(a_, d, {}, {"size"});
  EXPECT_TRUE(bad.status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(bad.status().message(), "cannot update \"size\" field on content info \"" + d.String() + "\"");
  EXPECT_TRUE(store_->Update(b_, d, {}, {}).status().Is(Errc::kNotFound));
  EXPECT_TRUE(store_->Update(a_, d, {{"k", std::string(5000, 'v')}}, {}).status().Is(Errc::kInvalidArgument));
}

TEST_F(ContentMetaTest, ListFiltersLikeContainerd) {
  ASSERT_TRUE(Commit(a_, "1", "one", true, {{"kind", "layer"}}).ok());
  ASSERT_TRUE(Commit(a_, "2", "two", true, {{"kind", "config"}}).ok());
  ASSERT_TRUE(Commit(b_, "3", "three").ok());
  auto all = store_->List(a_, nullptr);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto by_label = store_->List(a_, *filters::Parse("labels.kind==layer"));
  ASSERT_TRUE(by_label.ok());
  ASSERT_EQ(by_label->size(), 1u);
  EXPECT_EQ((*by_label)[0].digest, Sha256Of("one").String());
  EXPECT_EQ((*by_label)[0].labels.at("kind"), "layer");
  auto by_digest = store_->List(a_, *filters::Parse("digest==" + Sha256Of("two").String()));
  ASSERT_TRUE(by_digest.ok());
  ASSERT_EQ(by_digest->size(), 1u);
  auto by_size = store_->List(a_, *filters::Parse("size==3"));
  ASSERT_TRUE(by_size.ok());
  EXPECT_TRUE(by_size->empty()) << "containerd's AdaptInfo reports no size field";
}

TEST_F(ContentMetaTest, IngestsAreNamespaced) {
  auto wa = store_->OpenWriter(a_, "same-ref", 0, std::nullopt);
  ASSERT_TRUE(wa.ok());
  // The same ref in another namespace is another ingest: no lock conflict.
  auto wb = store_->OpenWriter(b_, "same-ref", 0, std::nullopt);
  ASSERT_TRUE(wb.ok()) << wb.status().ToString();
  ASSERT_TRUE((*wa)->Write("aaa").ok());
  ASSERT_TRUE((*wb)->Write("b").ok());
  auto sa = store_->Ingest(a_, "same-ref");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->ref, "same-ref");
  EXPECT_EQ(sa->offset, 3);
  EXPECT_EQ(store_->Ingest(b_, "same-ref")->offset, 1);
  EXPECT_TRUE(store_->Ingest(ContentScope{"c", std::nullopt}, "same-ref").status().Is(Errc::kNotFound));
  // Locked within a namespace.
  auto again = store_->OpenWriter(a_, "same-ref", 0, std::nullopt);
  EXPECT_TRUE(again.status().Is(Errc::kUnavailable));

  auto list = store_->ListIngests(a_, nullptr);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].ref, "same-ref");
  auto none = store_->ListIngests(a_, *filters::Parse("ref==other"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  wa->reset();
  ASSERT_TRUE(store_->Abort(a_, "same-ref").ok());
  EXPECT_TRUE(store_->Ingest(a_, "same-ref").status().Is(Errc::kNotFound));
  Status missing = store_->Abort(a_, "same-ref");
  EXPECT_TRUE(missing.Is(Errc::kNotFound));
  EXPECT_EQ(missing.ToString(), "reference same-ref: not found");
  EXPECT_TRUE(store_->Ingest(b_, "same-ref").ok()) << "b's ingest is untouched";
}

TEST_F(ContentMetaTest, ResumeAcrossWriters) {
  {
    auto w = store_->OpenWriter(a_, "big", 10, std::nullopt);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("01234").ok());
  }
  auto w = store_->OpenWriter(a_, "big", 10, std::nullopt);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Progress().offset, 5);
  ASSERT_TRUE((*w)->Write("56789").ok());
  ASSERT_TRUE((*w)->Commit(10, Sha256Of("0123456789"), {}).ok());
  EXPECT_TRUE(store_->Ingest(a_, "big").status().Is(Errc::kNotFound));
}

TEST_F(ContentMetaTest, CommitFailuresLeaveNothingOwned) {
  auto w = store_->OpenWriter(a_, "bad", 0, std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("abc").ok());
  Status st = (*w)->Commit(0, Sha256Of("xyz"), {});
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition));
  EXPECT_THAT(st.message(), ::testing::StartsWith("unexpected commit digest"));
  auto listed = store_->List(a_, nullptr);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(BlobFiles(), 0u);

  auto w2 = store_->OpenWriter(a_, "short", 0, std::nullopt);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE((*w2)->Write("abc").ok());
  st = (*w2)->Commit(4, std::nullopt, {});
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition));
  EXPECT_EQ(st.message(), "\"short\" failed size validation: 3 != 4");
}

TEST_F(ContentMetaTest, LeaseHoldsIngestThenContent) {
  CreateLease("a", "l1");
  const ContentScope leased{"a", "l1"};
  auto w = store_->OpenWriter(leased, "ref-under-lease", 0, std::nullopt);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(LeaseResources("a", "l1"), (std::set<std::string>{"ingests:ref-under-lease"}));
  ASSERT_TRUE((*w)->Write("leased").ok());
  ASSERT_TRUE((*w)->Commit(0, std::nullopt, {}).ok());
  const Digest d = Sha256Of("leased");
  EXPECT_EQ(LeaseResources("a", "l1"), (std::set<std::string>{"content:" + d.String()}));

  // Opening a write of owned content under a lease adds it to that lease.
  CreateLease("a", "l2");
  auto exists = store_->OpenWriter(ContentScope{"a", "l2"}, "x", 0, d);
  EXPECT_TRUE(exists.status().Is(Errc::kAlreadyExists));
  EXPECT_EQ(LeaseResources("a", "l2"), (std::set<std::string>{"content:" + d.String()}));

  // Deleting under the lease drops it from the lease.
  ASSERT_TRUE(store_->Delete(leased, d).ok());
  EXPECT_TRUE(LeaseResources("a", "l1").empty());

  auto missing = store_->OpenWriter(ContentScope{"a", "no-such-lease"}, "y", 0, std::nullopt);
  EXPECT_TRUE(missing.status().Is(Errc::kNotFound)) << missing.status().ToString();
}

TEST_F(ContentMetaTest, AbortUnderLeaseDropsIngestFromLease) {
  CreateLease("a", "l");
  const ContentScope leased{"a", "l"};
  {
    auto w = store_->OpenWriter(leased, "r", 0, std::nullopt);
    ASSERT_TRUE(w.ok());
  }
  EXPECT_EQ(LeaseResources("a", "l"), (std::set<std::string>{"ingests:r"}));
  ASSERT_TRUE(store_->Abort(leased, "r").ok());
  EXPECT_TRUE(LeaseResources("a", "l").empty());
  EXPECT_TRUE(fs::is_empty(dir_ / "content" / "ingest"));
}

TEST(ContentMetaKeys, IngestKeySeparatesNamespaces) {
  EXPECT_EQ(content_meta::IngestKey("ns", "ref"), "ns/ref");
  EXPECT_NE(content_meta::IngestKey("a", "b/c"), content_meta::IngestKey("b", "c"));
}

}  // namespace
}  // namespace berth::metadata
