// The metadata database: one SQLite file in WAL mode, schema versioned by migrations.
//
// Every mutation runs inside Db::Update (BEGIN IMMEDIATE ... COMMIT, rolled back when the
// callback returns an error), reads inside Db::View. One connection guarded by a mutex:
// SQLite serialises writers anyway, and metadata transactions are short.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace berth::metadata {

// A prepared statement borrowed from the connection's cache; reset when it goes out of scope.
// Not thread-safe: belongs to the transaction that prepared it (the thread inside Update/View).
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  ~Stmt();

  // Binds by 1-based index. Strings are copied by SQLite (SQLITE_TRANSIENT).
  Stmt& Bind(int index, std::string_view value);
  Stmt& Bind(int index, int64_t value);
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindNull(int index);

  // Advances: true with a row, false when done; errors as Status.
  Result<bool> Step();
  // Runs to completion (for statements that return no rows).
  Status Run();

  std::string ColumnText(int col) const;
  int64_t ColumnInt(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db;

// A transaction in progress: hands out statements; valid only inside Update/View.
// Not thread-safe: used only by the thread running the Update/View callback it was given to.
class Tx {
 public:
  explicit Tx(Db& db, bool writable) : db_(db), writable_(writable) {}
  Result<Stmt> Prepare(std::string_view sql);
  Status Exec(std::string_view sql);  // one or more statements, no results
  bool writable() const { return writable_; }
  int64_t Changes() const;

 private:
  Db& db_;
  bool writable_;
};

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Thread-safe: Update and View may be called from any thread; transactions run one at a time
// (one std::mutex, not recursive), so a callback must not call Update or View again.
class Db {
 public:
  // Opens (creating if needed) the DB at `path` and migrates it to the newest schema.
  // `migrations` must be sorted by version, starting at 1. A DB newer than the newest
  // migration is refused (FailedPrecondition): never run old code on a newer schema.
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path,
                                          const std::vector<Migration>& migrations);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Update(const std::function<Status(Tx&)>& fn);
  // As Update, then `after_commit` runs once the transaction has committed, still under the
  // connection's mutex (no other transaction in between), and not at all when it failed.
  // For file changes that must follow the records (GC removes files only after the rows
  // naming them are gone, so a crash in between leaves orphan files, never rows without files).
  Status UpdateThen(const std::function<Status(Tx&)>& fn, const std::function<void()>& after_commit);
  Status View(const std::function<Status(Tx&)>& fn);

  int schema_version() const { return schema_version_; }

 private:
  friend class Tx;
  explicit Db(sqlite3* db) : db_(db) {}
  Status Migrate(const std::vector<Migration>& migrations);
  Status RunTx(bool writable, const std::function<Status(Tx&)>& fn,
               const std::function<void()>& after_commit = {});
  Result<sqlite3_stmt*> Cached(std::string_view sql);

  sqlite3* db_;
  std::mutex mu_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  int schema_version_ = 0;
};

// Status for the connection's last error: kAlreadyExists for constraint violations on
// uniqueness, kUnavailable when busy, kInternal otherwise.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

}  // namespace berth::metadata
