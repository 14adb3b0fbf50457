#include "metadata/db.h"

#include <fmt/format.h>

#include "common/crash_point.h"
#include "common/logging.h"

namespace berth::metadata {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string msg = fmt::format("{}: {}", what, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int ext = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) {
    return Status(Errc::kAlreadyExists, msg);
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Status(Errc::kUnavailable, msg);
  }
  return Status(Errc::kInternal, msg);
}

// ---- Stmt ----

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(db_, rc, "metadata");
}

Status Stmt::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::string Stmt::ColumnText(int col) const {
  const auto* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}
int64_t Stmt::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
bool Stmt::ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---- Tx ----

Result<Stmt> Tx::Prepare(std::string_view sql) {
  BERTH_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, db_.Cached(sql));
  return Stmt(db_.db_, stmt);
}

Status Tx::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_.db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(Errc::kInternal, "metadata: " + msg);
  }
  return Status::Ok();
}

int64_t Tx::Changes() const { return sqlite3_changes64(db_.db_); }

// ---- Db ----

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path,
                                     const std::vector<Migration>& migrations) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(raw, rc, fmt::format("open metadata db {}", path.string()));
    sqlite3_close(raw);
    return st;
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer; FULL: a committed transaction survives power loss.
  const char* pragmas =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON;";
  char* err = nullptr;
  rc = sqlite3_exec(raw, pragmas, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status(Errc::kInternal, fmt::format("configure metadata db {}: {}", path.string(), msg));
  }
  BERTH_RETURN_IF_ERROR(db->Migrate(migrations));
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Result<sqlite3_stmt*> Db::Cached(std::string_view sql) {
  std::string key(sql);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "prepare");
  cache_.emplace(std::move(key), stmt);
  return stmt;
}

Status Db::RunTx(bool writable, const std::function<Status(Tx&)>& fn, const std::function<void()>& after_commit) {
  std::lock_guard lock(mu_);
  Tx tx(*this, writable);
  // IMMEDIATE takes the write lock up front so a writer never fails half-way on BUSY.
  BERTH_RETURN_IF_ERROR(tx.Exec(writable ? "BEGIN IMMEDIATE" : "BEGIN"));
  Status st = fn(tx);
  if (!st.ok() || !writable) {
    Status rb = tx.Exec("ROLLBACK");
    if (!rb.ok()) log::Error("metadata rollback failed", {{"error", rb.ToString()}});
    return st;
  }
  CrashPoint("metadata.tx.commit");
  Status commit = tx.Exec("COMMIT");
  if (!commit.ok()) {
    tx.Exec("ROLLBACK").IgnoreError();
    return commit;
  }
  if (after_commit) after_commit();
  return commit;
}

Status Db::Update(const std::function<Status(Tx&)>& fn) { return RunTx(true, fn); }
Status Db::UpdateThen(const std::function<Status(Tx&)>& fn, const std::function<void()>& after_commit) {
  return RunTx(true, fn, after_commit);
}
Status Db::View(const std::function<Status(Tx&)>& fn) { return RunTx(false, fn); }

Status Db::Migrate(const std::vector<Migration>& migrations) {
  return RunTx(true, [&](Tx& tx) -> Status {
    BERTH_RETURN_IF_ERROR(tx.Exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "  version INTEGER NOT NULL, description TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
    int current = 0;
    {
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
      BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) current = static_cast<int>(q.ColumnInt(0));
    }
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
      return FailedPrecondition(
          "metadata schema version {} is newer than this berthd knows ({}); refusing to open",
          current, newest);
    }
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      BERTH_RETURN_IF_ERROR(tx.Exec(m.sql).Wrap(fmt::format("migration {}", m.version)));
      BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(
          "INSERT INTO schema_version(version, description, applied_at) VALUES(?, ?, strftime('%s','now'))"));
      BERTH_RETURN_IF_ERROR(ins.Bind(1, int64_t{m.version}).Bind(2, m.description).Run());
      log::Info("metadata migrated", {{"version", m.version}, {"description", m.description}});
    }
    schema_version_ = newest;
    return Status::Ok();
  });
}

}  // namespace berth::metadata
