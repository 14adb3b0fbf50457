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
      {2, "content ownership, ingests, images, containers, leases",
       R"sql(
-- A blob is stored once on disk (content store) and owned per namespace here.
CREATE TABLE blobs (
  namespace  TEXT NOT NULL REFERENCES namespaces(name),
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, digest)
) WITHOUT ROWID;
CREATE INDEX blobs_by_digest ON blobs(digest);
CREATE TABLE blob_labels (
  namespace TEXT NOT NULL,
  digest    TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (namespace, digest, key),
  FOREIGN KEY (namespace, digest) REFERENCES blobs(namespace, digest) ON DELETE CASCADE
) WITHOUT ROWID;
-- In-progress writes by ref; the data lives in the content store's ingest dir.
CREATE TABLE ingests (
  namespace  TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  ref        TEXT NOT NULL,
  expected   TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, ref)
) WITHOUT ROWID;

CREATE TABLE images (
  namespace     TEXT NOT NULL REFERENCES namespaces(name),
  name          TEXT NOT NULL,
  target        BLOB NOT NULL,            -- serialized containerd.types.Descriptor
  target_digest TEXT NOT NULL,            -- for GC and lookups
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
CREATE TABLE image_labels (
  namespace TEXT NOT NULL,
  name      TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (namespace, name, key),
  FOREIGN KEY (namespace, name) REFERENCES images(namespace, name) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE containers (
  namespace       TEXT NOT NULL REFERENCES namespaces(name),
  id              TEXT NOT NULL,
  image           TEXT NOT NULL DEFAULT '',
  runtime_name    TEXT NOT NULL,
  runtime_options BLOB,                   -- serialized google.protobuf.Any, NULL when unset
  spec            BLOB,                   -- serialized google.protobuf.Any, NULL when unset
  snapshotter     TEXT NOT NULL DEFAULT '',
  snapshot_key    TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (namespace, id)
) WITHOUT ROWID;
CREATE TABLE container_labels (
  namespace TEXT NOT NULL,
  id        TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (namespace, id, key),
  FOREIGN KEY (namespace, id) REFERENCES containers(namespace, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE container_extensions (
  namespace TEXT NOT NULL,
  id        TEXT NOT NULL,
  name      TEXT NOT NULL,
  value     BLOB NOT NULL,                -- serialized google.protobuf.Any
  PRIMARY KEY (namespace, id, name),
  FOREIGN KEY (namespace, id) REFERENCES containers(namespace, id) ON DELETE CASCADE
) WITHOUT ROWID;

-- Leases hold resources (content, ingests, snapshots) against GC; they go with their namespace.
CREATE TABLE leases (
  namespace  TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  id         TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, id)
) WITHOUT ROWID;
CREATE TABLE lease_labels (
  namespace TEXT NOT NULL,
  id        TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (namespace, id, key),
  FOREIGN KEY (namespace, id) REFERENCES leases(namespace, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE lease_resources (
  namespace TEXT NOT NULL,
  lease     TEXT NOT NULL,
  type      TEXT NOT NULL,                -- "content", "ingests", "snapshots/<snapshotter>"
  resource  TEXT NOT NULL,                -- digest, ref or snapshot key
  PRIMARY KEY (namespace, lease, type, resource),
  FOREIGN KEY (namespace, lease) REFERENCES leases(namespace, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX lease_resources_by_resource ON lease_resources(namespace, type, resource);
)sql"},
      {3, "snapshots",
       R"sql(
-- Snapshots per (namespace, snapshotter, key). `id` names the snapshot's directory on disk
-- (<root>/snapshots/<snapshotter>/snapshots/<id>): short, so that deep parent chains fit in
-- one overlay mount option page, and never reused (snapshot_sequences), so that a directory
-- still being removed can never be mistaken for a new snapshot's.
CREATE TABLE snapshots (
  namespace   TEXT NOT NULL REFERENCES namespaces(name),
  snapshotter TEXT NOT NULL,
  key         TEXT NOT NULL,
  id          INTEGER NOT NULL,
  kind        INTEGER NOT NULL,           -- containerd.services.snapshots.v1.Kind: 1 view, 2 active, 3 committed
  parent      TEXT NOT NULL DEFAULT '',   -- key of the committed parent in the same namespace
  size        INTEGER NOT NULL DEFAULT 0, -- usage, recorded when committed
  inodes      INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (namespace, snapshotter, key),
  UNIQUE (snapshotter, id)
) WITHOUT ROWID;
CREATE INDEX snapshots_by_parent ON snapshots(namespace, snapshotter, parent);
-- Labels follow the id, which a commit keeps while the key changes.
CREATE TABLE snapshot_labels (
  snapshotter TEXT NOT NULL,
  id          INTEGER NOT NULL,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (snapshotter, id, key),
  FOREIGN KEY (snapshotter, id) REFERENCES snapshots(snapshotter, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE snapshot_sequences (
  snapshotter TEXT PRIMARY KEY NOT NULL,
  last_id     INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
  };
  return kMigrations;
}

}  // namespace berth::metadata
