#include "metadata/schema.h"

namespace berth::metadata {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "namespaces and server info",
       R"sql(
CREATE TABLE namespaces (
  name       TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE namespace_labels (
  namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
-- Daemon-wide facts that must survive restarts (the introspection UUID).
CREATE TABLE server_info (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql"},
  };
  return kMigrations;
}

}  // namespace berth::metadata
