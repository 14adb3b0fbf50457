#include "metadata/gc.h"

#include <chrono>
#include <ctime>
#include <deque>
#include <unordered_set>

#include "common/crash_point.h"
#include "common/logging.h"

namespace berth::metadata {
namespace {

// A node of the reference graph: kind + namespace + key.
struct Node {
  enum Kind { kContent, kSnapshot } kind;
  std::string ns;
  std::string key;  // digest, or "<snapshotter>/<snapshot key>"
  bool operator<(const Node& o) const {
    return std::tie(kind, ns, key) < std::tie(o.kind, o.ns, o.key);
  }
};

using Labels = std::map<std::string, std::string>;

// Parses RFC 3339 "2006-01-02T15:04:05Z" / with fraction / with offset. nullopt if malformed.
std::optional<TimePoint> ParseRfc3339(const std::string& s) {
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;  // sub-second precision does not matter here
  }
  long offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int sign = *rest == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = sign * (hh * 3600L + mm * 60L);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  std::time_t t = timegm(&tm) - offset;
  return Clock::from_time_t(t);
}

// The gc.ref edges in a label set.
void LabelRefs(const std::string& ns, const Labels& labels, std::vector<Node>& out) {
  for (const auto& [k, v] : labels) {
    if (k.starts_with(kLabelGcRefContent)) {
      out.push_back(Node{Node::kContent, ns, v});
    } else if (k.starts_with(kLabelGcRefSnapshot)) {
      std::string rest = k.substr(kLabelGcRefSnapshot.size());
      std::string snapshotter = rest.substr(0, rest.find('/'));  // "overlayfs" or "overlayfs/..."
      if (!snapshotter.empty()) out.push_back(Node{Node::kSnapshot, ns, snapshotter + "/" + v});
    }
  }
}

// Loads labels of a kind of object: map (ns, id) -> labels.
Result<std::map<std::pair<std::string, std::string>, Labels>> LoadLabels(Tx& tx, std::string_view table,
                                                                         std::string_view id_col) {
  std::map<std::pair<std::string, std::string>, Labels> out;
  BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(fmt::format("SELECT namespace, {}, key, value FROM {}", id_col, table)));
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[{q.ColumnText(0), q.ColumnText(1)}][q.ColumnText(2)] = q.ColumnText(3);
  }
  return out;
}

}  // namespace

Result<GcStats> GarbageCollection::Collect(TimePoint now) {
  GcStats stats;
  auto started = std::chrono::steady_clock::now();
  AfterCommit after_commit;
  Status st = db_.UpdateThen([&](Tx& tx) -> Status {
    std::vector<Node> roots;

    // Leases: expired ones are deleted, live ones hold all their resources.
    {
      BERTH_ASSIGN_OR_RETURN(auto lease_labels, LoadLabels(tx, "lease_labels", "id"));
      std::vector<std::pair<std::string, std::string>> expired;
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT namespace, id FROM leases"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::pair<std::string, std::string> id{q.ColumnText(0), q.ColumnText(1)};
        auto it = lease_labels.find(id);
        if (it != lease_labels.end()) {
          auto exp = it->second.find(std::string(kLabelGcExpire));
          if (exp != it->second.end()) {
            auto when = ParseRfc3339(exp->second);
            if (!when) {
              log::Info("ignoring invalid lease expiration", {{"namespace", id.first}, {"lease", id.second}, {"value", exp->second}});
            } else if (now > *when) {
              expired.push_back(id);
            }
          }
        }
      }
      for (const auto& [ns, id] : expired) {
        BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare("DELETE FROM leases WHERE namespace=?1 AND id=?2"));
        BERTH_RETURN_IF_ERROR(del.Bind(1, ns).Bind(2, id).Run());
        log::Info("lease expired", {{"namespace", ns}, {"lease", id}});
        ++stats.leases_expired;
      }
      BERTH_ASSIGN_OR_RETURN(auto res, tx.Prepare("SELECT namespace, type, resource FROM lease_resources"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, res.Step());
        if (!row) break;
        std::string ns = res.ColumnText(0), type = res.ColumnText(1), id = res.ColumnText(2);
        if (type == "content") {
          roots.push_back(Node{Node::kContent, ns, id});
        } else if (type.starts_with("snapshots/")) {
          roots.push_back(Node{Node::kSnapshot, ns, type.substr(10) + "/" + id});
        }
        // "ingests": ingests are kept regardless (see below).
      }
    }

    // Images: their target and their label references.
    {
      BERTH_ASSIGN_OR_RETURN(auto image_labels, LoadLabels(tx, "image_labels", "name"));
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT namespace, name, target_digest FROM images"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::string ns = q.ColumnText(0);
        roots.push_back(Node{Node::kContent, ns, q.ColumnText(2)});
        if (auto it = image_labels.find({ns, q.ColumnText(1)}); it != image_labels.end()) {
          LabelRefs(ns, it->second, roots);
        }
      }
    }

    // Containers: their snapshot and their label references.
    {
      BERTH_ASSIGN_OR_RETURN(auto container_labels, LoadLabels(tx, "container_labels", "id"));
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT namespace, id, snapshotter, snapshot_key FROM containers"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        std::string ns = q.ColumnText(0);
        std::string snapshotter = q.ColumnText(2), key = q.ColumnText(3);
        if (!snapshotter.empty() && !key.empty()) roots.push_back(Node{Node::kSnapshot, ns, snapshotter + "/" + key});
        if (auto it = container_labels.find({ns, q.ColumnText(1)}); it != container_labels.end()) {
          LabelRefs(ns, it->second, roots);
        }
      }
    }

    // Ingests keep the content they are expected to become. Unlike containerd, an ingest is
    // never collected here: it lives until it is committed or aborted, even without a lease.
    {
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT namespace, expected FROM ingests WHERE expected != ''"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        roots.push_back(Node{Node::kContent, q.ColumnText(0), q.ColumnText(1)});
      }
    }

    // Blobs: the graph's content nodes, their labels (edges and gc.root).
    BERTH_ASSIGN_OR_RETURN(auto blob_labels, LoadLabels(tx, "blob_labels", "digest"));
    for (const auto& [id, lbls] : blob_labels) {
      if (lbls.contains(std::string(kLabelGcRoot))) roots.push_back(Node{Node::kContent, id.first, id.second});
    }

    // Snapshots from each snapshotter: labels (edges, gc.root) and parents.
    std::map<Node, std::vector<Node>> snapshot_edges;
    for (const auto& entry : snapshotters_) {
      const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture those
      BERTH_RETURN_IF_ERROR(entry.second->ForEach(tx, [&](const SnapshotRef& ref, const Labels& lbls,
                                                 const std::string& parent) {
        Node self{Node::kSnapshot, ref.first, name + "/" + ref.second};
        std::vector<Node>& edges = snapshot_edges[self];
        if (!parent.empty()) edges.push_back(Node{Node::kSnapshot, ref.first, name + "/" + parent});
        LabelRefs(ref.first, lbls, edges);
        if (lbls.contains(std::string(kLabelGcRoot))) roots.push_back(self);
      }));
    }

    // Mark.
    std::set<Node> marked;
    std::deque<Node> queue(roots.begin(), roots.end());
    while (!queue.empty()) {
      Node n = std::move(queue.front());
      queue.pop_front();
      if (!marked.insert(n).second) continue;
      std::vector<Node> next;
      if (n.kind == Node::kContent) {
        if (auto it = blob_labels.find({n.ns, n.key}); it != blob_labels.end()) LabelRefs(n.ns, it->second, next);
      } else if (auto it = snapshot_edges.find(n); it != snapshot_edges.end()) {
        next = it->second;
      }
      for (auto& m : next) {
        if (!marked.contains(m)) queue.push_back(std::move(m));
      }
    }

    // Sweep blob ownership rows.
    {
      std::vector<std::pair<std::string, std::string>> dead;
      BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT namespace, digest FROM blobs"));
      for (;;) {
        BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        Node n{Node::kContent, q.ColumnText(0), q.ColumnText(1)};
        if (!marked.contains(n)) dead.emplace_back(n.ns, n.key);
      }
      for (const auto& [ns, digest] : dead) {
        BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare("DELETE FROM blobs WHERE namespace=?1 AND digest=?2"));
        BERTH_RETURN_IF_ERROR(del.Bind(1, ns).Bind(2, digest).Run());
        log::Debug("gc removed blob", {{"namespace", ns}, {"digest", digest}});
        ++stats.blob_rows_removed;
      }
    }

    // Sweep snapshots, per snapshotter.
    for (const auto& [name, sgc] : snapshotters_) {
      std::set<SnapshotRef> live;
      std::string prefix = name + "/";
      for (const auto& n : marked) {
        if (n.kind == Node::kSnapshot && n.key.starts_with(prefix)) live.emplace(n.ns, n.key.substr(prefix.size()));
      }
      BERTH_ASSIGN_OR_RETURN(size_t removed, sgc->Sweep(tx, live, after_commit));
      stats.snapshots_removed += removed;
    }

    // Sweep files: a blob on disk that no namespace owns any more.
    if (files_.for_each && files_.remove) {
      std::unordered_set<std::string> owned;
      {
        BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT DISTINCT digest FROM blobs"));
        for (;;) {
          BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
          if (!row) break;
          owned.insert(q.ColumnText(0));
        }
      }
      std::vector<std::string> orphans;
      BERTH_RETURN_IF_ERROR(files_.for_each([&](const std::string& digest) {
        if (!owned.contains(digest)) orphans.push_back(digest);
      }));
      for (auto& digest : orphans) {
        after_commit.push_back([this, &stats, digest = std::move(digest)] {
          CrashPoint("gc.sweep.file");
          Status rm = files_.remove(digest);
          if (!rm.ok() && !rm.Is(Errc::kNotFound)) {
            log::Warn("gc could not remove blob file", {{"digest", digest}, {"error", rm.ToString()}});
            return;
          }
          ++stats.blob_files_removed;
        });
      }
    }
    return Status::Ok();
  }, [&after_commit] {
    CrashPoint("gc.sweep.committed");
    for (auto& remove : after_commit) remove();
  });
  if (!st.ok()) return st.Wrap("garbage collection");
  stats.took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  log::Info("garbage collected", {{"leases_expired", stats.leases_expired},
                                  {"blobs", stats.blob_rows_removed},
                                  {"files", stats.blob_files_removed},
                                  {"snapshots", stats.snapshots_removed},
                                  {"us", static_cast<int64_t>(stats.took.count())}});
  return stats;
}

}  // namespace berth::metadata
