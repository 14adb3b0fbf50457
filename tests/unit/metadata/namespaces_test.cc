#include "metadata/namespaces.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "metadata/schema.h"
#include "metadata/server_info.h"

namespace berth::metadata {
namespace {

namespace fs = std::filesystem;

class NamespacesStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("berth-ns-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    auto db = Db::Open(path_, Migrations());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_.string() + suffix);
  }
  Status Update(const std::function<Status(Tx&)>& fn) { return db_->Update(fn); }

  fs::path path_;
  std::unique_ptr<Db> db_;
};

TEST_F(NamespacesStoreTest, CreateListLabels) {
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Create(tx, "n1", {{"a", "b"}}); }).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Create(tx, "n0", {}); }).ok());
  Status dup = Update([](Tx& tx) { return namespaces::Create(tx, "n1", {}); });
  EXPECT_TRUE(dup.Is(Errc::kAlreadyExists));
  EXPECT_EQ(dup.ToString(), "namespace \"n1\": already exists");

  std::vector<Namespace> all;
  ASSERT_TRUE(db_->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(all, namespaces::List(tx));
    return Status::Ok();
  }).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "n0");
  EXPECT_EQ(all[1].name, "n1");
  EXPECT_EQ(all[1].labels, (labels::Labels{{"a", "b"}}));
}

TEST_F(NamespacesStoreTest, SetLabelEmptyDeletesAndCreatesNamespaceImplicitly) {
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::SetLabel(tx, "implicit", "k", "v"); }).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::SetLabel(tx, "implicit", "k2", "v2"); }).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::SetLabel(tx, "implicit", "k", ""); }).ok());
  labels::Labels l;
  ASSERT_TRUE(db_->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(l, namespaces::Labels(tx, "implicit"));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(l, (labels::Labels{{"k2", "v2"}}));
}

TEST_F(NamespacesStoreTest, ValidatesNamesAndLabels) {
  EXPECT_TRUE(Update([](Tx& tx) { return namespaces::Create(tx, "a/b", {}); }).Is(Errc::kInvalidArgument));
  EXPECT_TRUE(Update([](Tx& tx) {
                return namespaces::Create(tx, "ok", {{"k", std::string(5000, 'v')}});
              }).Is(Errc::kInvalidArgument));
  EXPECT_TRUE(Update([](Tx& tx) { return namespaces::SetLabel(tx, "-bad", "k", "v"); }).Is(Errc::kInvalidArgument));
}

TEST_F(NamespacesStoreTest, DeleteMissingIsNotFound) {
  Status st = Update([](Tx& tx) { return namespaces::Delete(tx, "ghost"); });
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  EXPECT_EQ(st.ToString(), "namespace \"ghost\": not found");
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Create(tx, "gone", {{"x", "y"}}); }).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Delete(tx, "gone"); }).ok());
  // Its labels went with it.
  labels::Labels l{{"sentinel", "1"}};
  ASSERT_TRUE(db_->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(l, namespaces::Labels(tx, "gone"));
    return Status::Ok();
  }).ok());
  EXPECT_TRUE(l.empty());
}

TEST_F(NamespacesStoreTest, DeleteRefusesANamespaceThatHoldsObjects) {
  ASSERT_TRUE(Update([](Tx& tx) -> Status {
    BERTH_RETURN_IF_ERROR(namespaces::Create(tx, "busy", {}));
    BERTH_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO images(namespace, name, target, target_digest, created_at, updated_at) "
        "VALUES('busy', 'img', x'', 'sha256:00', 0, 0)"));
    BERTH_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO blobs(namespace, digest, size, created_at, updated_at) VALUES('busy', 'sha256:00', 1, 0, 0)"));
    return tx.Exec("INSERT INTO leases(namespace, id, created_at) VALUES('busy', 'l1', 0)");
  }).ok());
  Status st = Update([](Tx& tx) { return namespaces::Delete(tx, "busy"); });
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition)) << st.ToString();
  EXPECT_EQ(st.ToString(),
            "namespace \"busy\" must be empty, but it still has images, blobs: failed precondition");

  // Leases alone do not keep a namespace: they go with it.
  ASSERT_TRUE(Update([](Tx& tx) { return tx.Exec("DELETE FROM images; DELETE FROM blobs;"); }).ok());
  ASSERT_TRUE(Update([](Tx& tx) { return namespaces::Delete(tx, "busy"); }).ok());
  int64_t leases = -1;
  ASSERT_TRUE(db_->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT COUNT(*) FROM leases"));
    BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) leases = q.ColumnInt(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(leases, 0);
}

TEST_F(NamespacesStoreTest, ServerUuidIsStable) {
  auto a = ServerUuid(*db_);
  auto b = ServerUuid(*db_);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 36u);
  EXPECT_EQ((*a)[14], '4');
}

}  // namespace
}  // namespace berth::metadata
