#include "metadata/gc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <vector>

#include <sqlite3.h>

#include "metadata/schema.h"

namespace berth::metadata {
namespace {

namespace fs = std::filesystem;

// Blob files as a set: what the collector sees on "disk". `on_remove` runs before each removal.
struct FakeFiles {
  std::set<std::string> files;
  std::function<void(const std::string&)> on_remove;
  BlobFiles Bind() {
    return BlobFiles{
        [this](const std::function<void(const std::string&)>& fn) {
          for (const auto& f : files) fn(f);
          return Status::Ok();
        },
        [this](const std::string& d) {
          if (on_remove) on_remove(d);
          files.erase(d);
          return Status::Ok();
        }};
  }
};

// Rows of `sql` (a COUNT) as another connection sees them: what is committed.
int64_t CommittedCount(const fs::path& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(conn);
  return n;
}

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("berth-gc-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(path_);
    auto db = Db::Open(path_, Migrations());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    gc_ = std::make_unique<GarbageCollection>(*db_, files_.Bind());
    Exec("INSERT INTO namespaces(name, created_at, updated_at) VALUES('a', 0, 0), ('b', 0, 0)");
  }
  void TearDown() override {
    gc_.reset();
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_.string() + suffix);
  }
  void Exec(const std::string& sql) {
    Status st = db_->Update([&](Tx& tx) { return tx.Exec(sql); });
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << sql;
  }
  void Blob(const std::string& ns, const std::string& digest) {
    files_.files.insert(digest);
    Exec("INSERT INTO blobs(namespace, digest, size, created_at, updated_at) VALUES('" + ns + "','" + digest + "',1,0,0)");
  }
  void BlobLabel(const std::string& ns, const std::string& digest, const std::string& k, const std::string& v) {
    Exec("INSERT INTO blob_labels(namespace, digest, key, value) VALUES('" + ns + "','" + digest + "','" + k + "','" + v + "')");
  }
  std::set<std::string> Owned(const std::string& ns) {
    std::set<std::string> out;
    EXPECT_TRUE(db_->View([&](Tx& tx) -> Status {
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT digest FROM blobs WHERE namespace=?1"));
      q.Bind(1, ns);
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        out.insert(q.ColumnText(0));
      }
      return Status::Ok();
    }).ok());
    return out;
  }
  GcStats Collect(TimePoint now = Clock::now()) {
    auto r = gc_->Collect(now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GcStats{};
  }

  fs::path path_;
  std::unique_ptr<Db> db_;
  FakeFiles files_;
  std::unique_ptr<GarbageCollection> gc_;
};

TEST_F(GcTest, ImageKeepsItsManifestChainThroughLabels) {
  Blob("a", "sha256:index");
  Blob("a", "sha256:manifest");
  Blob("a", "sha256:config");
  Blob("a", "sha256:layer");
  Blob("a", "sha256:stray");
  BlobLabel("a", "sha256:index", "containerd.io/gc.ref.content.m.0", "sha256:manifest");
  BlobLabel("a", "sha256:manifest", "containerd.io/gc.ref.content.config", "sha256:config");
  BlobLabel("a", "sha256:manifest", "containerd.io/gc.ref.content.l.0", "sha256:layer");
  Exec("INSERT INTO images(namespace, name, target, target_digest, created_at, updated_at) "
       "VALUES('a', 'img', x'', 'sha256:index', 0, 0)");
  auto stats = Collect();
  EXPECT_EQ(stats.blob_rows_removed, 1u);
  EXPECT_EQ(Owned("a"), (std::set<std::string>{"sha256:config", "sha256:index", "sha256:layer", "sha256:manifest"}));
  EXPECT_FALSE(files_.files.contains("sha256:stray"));
  EXPECT_TRUE(files_.files.contains("sha256:layer"));

  // Deleting the image releases the whole chain, rows and files.
  Exec("DELETE FROM images");
  Collect();
  EXPECT_TRUE(Owned("a").empty());
  EXPECT_TRUE(files_.files.empty());
}

TEST_F(GcTest, NamespacesAreSeparateButFilesAreShared) {
  Blob("a", "sha256:shared");
  Blob("b", "sha256:shared");
  Exec("INSERT INTO images(namespace, name, target, target_digest, created_at, updated_at) "
       "VALUES('b', 'img', x'', 'sha256:shared', 0, 0)");
  Collect();
  EXPECT_TRUE(Owned("a").empty()) << "namespace a holds no reference";
  EXPECT_EQ(Owned("b"), std::set<std::string>{"sha256:shared"});
  EXPECT_TRUE(files_.files.contains("sha256:shared")) << "b still owns the file";
}

TEST_F(GcTest, LeasesHoldResourcesUntilTheyExpire) {
  Blob("a", "sha256:held");
  Blob("a", "sha256:later");
  Exec("INSERT INTO leases(namespace, id, created_at) VALUES('a', 'l1', 0), ('a', 'l2', 0)");
  Exec("INSERT INTO lease_resources(namespace, lease, type, resource) VALUES"
       "('a', 'l1', 'content', 'sha256:held'), ('a', 'l2', 'content', 'sha256:later')");
  Exec("INSERT INTO lease_labels(namespace, id, key, value) VALUES('a', 'l2', 'containerd.io/gc.expire', '2030-01-01T00:00:00Z')");
  Collect(Clock::from_time_t(1893456000 - 60));  // 2029-12-31T23:59:00Z
  EXPECT_EQ(Owned("a"), (std::set<std::string>{"sha256:held", "sha256:later"}));

  auto stats = Collect(Clock::from_time_t(1893456000 + 60));
  EXPECT_EQ(stats.leases_expired, 1u);
  EXPECT_EQ(Owned("a"), std::set<std::string>{"sha256:held"});
}

TEST_F(GcTest, GcRootLabelAndIngestsKeepContent) {
  Blob("a", "sha256:rooted");
  BlobLabel("a", "sha256:rooted", "containerd.io/gc.root", "2026-01-01T00:00:00Z");
  Blob("a", "sha256:expected");
  Exec("INSERT INTO ingests(namespace, ref, expected, created_at) VALUES('a', 'ref1', 'sha256:expected', 0)");
  Collect();
  EXPECT_EQ(Owned("a"), (std::set<std::string>{"sha256:expected", "sha256:rooted"}));
}

TEST_F(GcTest, UnownedFilesGoOwnedStay) {
  files_.files = {"sha256:orphan"};
  Blob("a", "sha256:rooted");
  BlobLabel("a", "sha256:rooted", "containerd.io/gc.root", "x");
  auto stats = Collect();
  EXPECT_EQ(stats.blob_files_removed, 1u);
  EXPECT_EQ(files_.files, std::set<std::string>{"sha256:rooted"});
}

// Crash safety: a blob file goes only once the rows naming it are committed, so a crash in
// between leaves an orphan file (swept next time), never a listed blob without its file.
TEST_F(GcTest, FilesGoOnlyAfterTheirRowsAreCommitted) {
  Blob("a", "sha256:dead");
  Blob("a", "sha256:rooted");
  BlobLabel("a", "sha256:rooted", "containerd.io/gc.root", "x");
  std::vector<int64_t> rows_at_removal;
  files_.on_remove = [&](const std::string& d) {
    rows_at_removal.push_back(CommittedCount(path_, "SELECT COUNT(*) FROM blobs WHERE digest='" + d + "'"));
  };
  auto stats = Collect();
  EXPECT_EQ(stats.blob_rows_removed, 1u);
  EXPECT_EQ(stats.blob_files_removed, 1u);
  EXPECT_EQ(rows_at_removal, std::vector<int64_t>{0});
  EXPECT_EQ(files_.files, std::set<std::string>{"sha256:rooted"});
}

// A snapshotter as a map key -> parent, labels.
class FakeSnapshots : public SnapshotGc {
 public:
  struct Snap {
    std::string parent;
    std::map<std::string, std::string> labels;
  };
  std::map<SnapshotRef, Snap> snaps;  // the records
  std::set<SnapshotRef> dirs;         // their directories ("on disk")
  bool fail_sweep = false;           // fails the sweep once its removals are queued
  void Add(const SnapshotRef& ref, Snap s) {
    snaps[ref] = std::move(s);
    dirs.insert(ref);
  }
  Status ForEach(Tx&, const std::function<void(const SnapshotRef&, const std::map<std::string, std::string>&,
                                               const std::string&)>& fn) override {
    for (const auto& [ref, s] : snaps) fn(ref, s.labels, s.parent);
    return Status::Ok();
  }
  Result<size_t> Sweep(Tx&, const std::set<SnapshotRef>& live, AfterCommit& after_commit) override {
    size_t n = 0;
    for (auto it = snaps.begin(); it != snaps.end();) {
      if (live.contains(it->first)) {
        ++it;
      } else {
        after_commit.push_back([this, ref = it->first] { dirs.erase(ref); });
        it = snaps.erase(it);
        ++n;
      }
    }
    if (fail_sweep) return Status(Errc::kInternal, "sweep failed");  // after queueing removals
    return n;
  }
};

TEST_F(GcTest, ContainersKeepTheirSnapshotChainAndContentLabelsKeepLayers) {
  FakeSnapshots snaps;
  gc_->AddSnapshotter("overlayfs", &snaps);
  snaps.Add({"a", "layer1"}, {});
  snaps.Add({"a", "layer2"}, {"layer1", {}});
  snaps.Add({"a", "ctr-rw"}, {"layer2", {}});
  snaps.Add({"a", "unused"}, {"layer1", {}});
  snaps.Add({"a", "unpacked"}, {});
  Exec("INSERT INTO containers(namespace, id, runtime_name, snapshotter, snapshot_key, created_at, updated_at) "
       "VALUES('a', 'c1', 'io.containerd.runc.v2', 'overlayfs', 'ctr-rw', 0, 0)");
  // An image's config keeps its unpacked snapshot (containerd's unpacker label).
  Blob("a", "sha256:config");
  BlobLabel("a", "sha256:config", "containerd.io/gc.ref.snapshot.overlayfs", "unpacked");
  BlobLabel("a", "sha256:config", "containerd.io/gc.root", "x");
  auto stats = Collect();
  EXPECT_EQ(stats.snapshots_removed, 1u);
  EXPECT_FALSE(snaps.snaps.contains({"a", "unused"}));
  EXPECT_TRUE(snaps.snaps.contains({"a", "layer1"}));
  EXPECT_TRUE(snaps.snaps.contains({"a", "unpacked"}));

  Exec("DELETE FROM containers");
  Collect();
  EXPECT_EQ(snaps.snaps.size(), 1u);
  EXPECT_TRUE(snaps.snaps.contains({"a", "unpacked"}));
  EXPECT_EQ(snaps.dirs, (std::set<SnapshotRef>{{"a", "unpacked"}}));  // directories followed the records
}

// A collection that fails is rolled back and removes nothing from disk: no directory or file
// loses its record's data.
TEST_F(GcTest, AFailedCollectionRemovesNoFileOrDirectory) {
  FakeSnapshots snaps;
  gc_->AddSnapshotter("overlayfs", &snaps);
  snaps.Add({"a", "unused"}, {});
  snaps.fail_sweep = true;
  Blob("a", "sha256:dead");
  files_.files.insert("sha256:orphan");
  auto r = gc_->Collect(Clock::now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(files_.files, (std::set<std::string>{"sha256:dead", "sha256:orphan"}));
  EXPECT_EQ(snaps.dirs, (std::set<SnapshotRef>{{"a", "unused"}}));
  EXPECT_EQ(Owned("a"), std::set<std::string>{"sha256:dead"});
}

}  // namespace
}  // namespace berth::metadata
