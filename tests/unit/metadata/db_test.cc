#include "metadata/db.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "metadata/schema.h"

namespace berth::metadata {
namespace {

namespace fs = std::filesystem;

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("berth-db-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

const std::vector<Migration> kTwo = {
    {1, "first", "CREATE TABLE t(a INTEGER);"},
    {2, "second", "ALTER TABLE t ADD COLUMN b TEXT;"},
};

TEST_F(DbTest, MigratesInOrderAndOnlyOnce) {
  {
    std::vector<Migration> one(kTwo.begin(), kTwo.begin() + 1);
    auto db = Db::Open(dir_ / "m.db", one);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->schema_version(), 1);
  }
  auto db = Db::Open(dir_ / "m.db", kTwo);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), 2);
  Status st = (*db)->Update([](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto s, tx.Prepare("INSERT INTO t(a, b) VALUES(?1, ?2)"));
    return s.Bind(1, int64_t{7}).Bind(2, "x").Run();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Reopening with the same migrations applies nothing again.
  db->reset();
  auto again = Db::Open(dir_ / "m.db", kTwo);
  ASSERT_TRUE(again.ok());
  int64_t rows = 0;
  ASSERT_TRUE((*again)->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto s, tx.Prepare("SELECT COUNT(*) FROM schema_version"));
    BERTH_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) rows = s.ColumnInt(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(rows, 2);
}

TEST_F(DbTest, RefusesANewerSchema) {
  ASSERT_TRUE(Db::Open(dir_ / "n.db", kTwo).ok());
  std::vector<Migration> old(kTwo.begin(), kTwo.begin() + 1);
  auto db = Db::Open(dir_ / "n.db", old);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Errc::kFailedPrecondition);
}

TEST_F(DbTest, FailedUpdateRollsBack) {
  auto db = Db::Open(dir_ / "r.db", kTwo);
  ASSERT_TRUE(db.ok());
  Status st = (*db)->Update([](Tx& tx) -> Status {
    BERTH_RETURN_IF_ERROR(tx.Exec("INSERT INTO t(a) VALUES(1)"));
    return NotFound("something");
  });
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  int64_t n = -1;
  ASSERT_TRUE((*db)->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto s, tx.Prepare("SELECT COUNT(*) FROM t"));
    BERTH_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) n = s.ColumnInt(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(n, 0);
}

TEST_F(DbTest, UpdateThenRunsAfterTheCommitAndOnlyWhenItCommitted) {
  auto db = Db::Open(dir_ / "a.db", kTwo);
  ASSERT_TRUE(db.ok());
  int ran = 0;
  Status st = (*db)->UpdateThen([](Tx& tx) { return tx.Exec("INSERT INTO t(a) VALUES(1)"); },
                                [&] { ++ran; });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ran, 1);
  st = (*db)->UpdateThen(
      [](Tx& tx) -> Status {
        BERTH_RETURN_IF_ERROR(tx.Exec("INSERT INTO t(a) VALUES(2)"));
        return NotFound("something");
      },
      [&] { ++ran; });
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  EXPECT_EQ(ran, 1) << "after_commit ran for a transaction that rolled back";
}

TEST_F(DbTest, UsesWalMode) {
  auto db = Db::Open(dir_ / "w.db", Migrations());
  ASSERT_TRUE(db.ok());
  std::string mode;
  ASSERT_TRUE((*db)->View([&](Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(auto s, tx.Prepare("PRAGMA journal_mode"));
    BERTH_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) mode = s.ColumnText(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ((*db)->schema_version(), Migrations().back().version);
}

TEST_F(DbTest, UniqueViolationIsAlreadyExists) {
  auto db = Db::Open(dir_ / "u.db", {{1, "u", "CREATE TABLE u(k TEXT PRIMARY KEY);"}});
  ASSERT_TRUE(db.ok());
  auto insert = [&] {
    return (*db)->Update([](Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto s, tx.Prepare("INSERT INTO u(k) VALUES('a')"));
      return s.Run();
    });
  };
  ASSERT_TRUE(insert().ok());
  EXPECT_TRUE(insert().Is(Errc::kAlreadyExists));
}

}  // namespace
}  // namespace berth::metadata
