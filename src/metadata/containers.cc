#include "metadata/containers.h"

#include <utility>

#include "common/identifiers.h"
#include "metadata/label_rows.h"
#include "metadata/namespaces.h"

namespace berth::metadata::containers {
namespace {

constexpr std::string_view kColumns =
    "id, image, runtime_name, runtime_options, spec, snapshotter, snapshot_key, created_at, "
    "updated_at";

int64_t Now() { return ToUnixNanos(Clock::now()); }

Result<std::optional<google::protobuf::Any>> ReadAny(const Stmt& st, int col, std::string_view what,
                                                     std::string_view id) {
  if (st.ColumnIsNull(col)) return std::optional<google::protobuf::Any>();
  google::protobuf::Any any;
  if (!any.ParseFromString(st.ColumnText(col))) {
    return Internal("container {:?}: unreadable {}", id, what);
  }
  return std::optional<google::protobuf::Any>(std::move(any));
}

void BindAny(Stmt& st, int index, const std::optional<google::protobuf::Any>& any) {
  if (any) {
    st.BindBlob(index, any->SerializeAsString());
  } else {
    st.BindNull(index);
  }
}

// The columns of kColumns from the row the statement is on; labels and extensions apart.
Result<Container> ReadRow(const Stmt& st) {
  Container c;
  c.id = st.ColumnText(0);
  c.image = st.ColumnText(1);
  c.runtime.name = st.ColumnText(2);
  BERTH_ASSIGN_OR_RETURN(c.runtime.options, ReadAny(st, 3, "runtime options", c.id));
  BERTH_ASSIGN_OR_RETURN(c.spec, ReadAny(st, 4, "spec", c.id));
  c.snapshotter = st.ColumnText(5);
  c.snapshot_key = st.ColumnText(6);
  c.created_at = FromUnixNanos(st.ColumnInt(7));
  c.updated_at = FromUnixNanos(st.ColumnInt(8));
  return c;
}

Result<std::map<std::string, google::protobuf::Any>> ReadExtensions(Tx& tx, std::string_view ns,
                                                                     std::string_view id) {
  std::map<std::string, google::protobuf::Any> out;
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
      "SELECT name, value FROM container_extensions WHERE namespace=?1 AND id=?2"));
  st.Bind(1, ns).Bind(2, id);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    google::protobuf::Any any;
    if (!any.ParseFromString(st.ColumnText(1))) {
      return Internal("container {:?}: unreadable extension {:?}", id, st.ColumnText(0));
    }
    out.emplace(st.ColumnText(0), std::move(any));
  }
  return out;
}

Status ReadChildren(Tx& tx, std::string_view ns, Container& c) {
  BERTH_ASSIGN_OR_RETURN(c.labels, label_rows::Read(tx, label_rows::kContainers, ns, c.id));
  BERTH_ASSIGN_OR_RETURN(c.extensions, ReadExtensions(tx, ns, c.id));
  return Status::Ok();
}

Status WriteExtensions(Tx& tx, std::string_view ns, const Container& c) {
  {
    BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare(
        "DELETE FROM container_extensions WHERE namespace=?1 AND id=?2"));
    BERTH_RETURN_IF_ERROR(del.Bind(1, ns).Bind(2, c.id).Run());
  }
  for (const auto& [name, any] : c.extensions) {
    BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(
        "INSERT INTO container_extensions(namespace, id, name, value) VALUES(?1, ?2, ?3, ?4)"));
    BERTH_RETURN_IF_ERROR(ins.Bind(1, ns).Bind(2, c.id).Bind(3, name)
                              .BindBlob(4, any.SerializeAsString()).Run());
  }
  return Status::Ok();
}

Status Write(Tx& tx, std::string_view ns, const Container& c, bool insert) {
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(
        insert ? "INSERT INTO containers(namespace, id, image, runtime_name, runtime_options, spec, "
                 "snapshotter, snapshot_key, created_at, updated_at) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
               : "UPDATE containers SET image=?3, runtime_name=?4, runtime_options=?5, spec=?6, "
                 "snapshotter=?7, snapshot_key=?8, created_at=?9, updated_at=?10 "
                 "WHERE namespace=?1 AND id=?2"));
    st.Bind(1, ns).Bind(2, c.id).Bind(3, c.image).Bind(4, c.runtime.name);
    BindAny(st, 5, c.runtime.options);
    BindAny(st, 6, c.spec);
    st.Bind(7, c.snapshotter).Bind(8, c.snapshot_key);
    BERTH_RETURN_IF_ERROR(
        st.Bind(9, ToUnixNanos(c.created_at)).Bind(10, ToUnixNanos(c.updated_at)).Run());
  }
  BERTH_RETURN_IF_ERROR(label_rows::Write(tx, label_rows::kContainers, ns, c.id, c.labels));
  return WriteExtensions(tx, ns, c);
}

Result<bool> Exists(Tx& tx, std::string_view ns, std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("SELECT 1 FROM containers WHERE namespace=?1 AND id=?2"));
  st.Bind(1, ns).Bind(2, id);
  return st.Step();
}

}  // namespace

Status Validate(const Container& c) {
  BERTH_RETURN_IF_ERROR(identifiers::Validate(c.id).Wrap("container.ID"));
  for (const auto& [name, any] : c.extensions) {
    if (name.empty()) return InvalidArgument("container.Extension keys must not be zero-length");
  }
  // The image reference has no validation (containerd).
  for (const auto& [k, v] : c.labels) {
    BERTH_RETURN_IF_ERROR(labels::Validate(k, v).Wrap("containers.Labels"));
  }
  if (c.runtime.name.empty()) return InvalidArgument("container.Runtime.Name must be set");
  if (!c.spec) return InvalidArgument("container.Spec must be set");
  if (!c.snapshot_key.empty() && c.snapshotter.empty()) {
    return InvalidArgument("container.Snapshotter must be set if container.SnapshotKey is set");
  }
  return Status::Ok();
}

filters::FuncAdaptor Adapt(const Container& c) {
  return filters::FuncAdaptor([&c](const std::vector<std::string>& path)
                                  -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    const std::string& field = path[0];
    if (field == "id") return filters::StringField(c.id);
    if (field == "runtime") {
      if (path.size() > 1 && path[1] == "name") return filters::StringField(c.runtime.name);
      return std::nullopt;
    }
    if (field == "image") return filters::StringField(c.image);
    if (field == "labels") return filters::LabelField(c.labels, filters::Rest(path));
    return std::nullopt;
  });
}

Result<Container> Get(Tx& tx, std::string_view ns, std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
      "SELECT {} FROM containers WHERE namespace=?1 AND id=?2", kColumns)));
  st.Bind(1, ns).Bind(2, id);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("container {:?} in namespace {:?}", id, ns);
  BERTH_ASSIGN_OR_RETURN(Container c, ReadRow(st));
  BERTH_RETURN_IF_ERROR(ReadChildren(tx, ns, c));
  return c;
}

Result<std::vector<Container>> List(Tx& tx, std::string_view ns,
                                    const std::vector<std::string>& filter_strings) {
  BERTH_ASSIGN_OR_RETURN(auto filter, filters::ParseAll(filter_strings));
  std::vector<Container> all;
  {
    BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare(fmt::format(
        "SELECT {} FROM containers WHERE namespace=?1 ORDER BY id", kColumns)));
    st.Bind(1, ns);
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      BERTH_ASSIGN_OR_RETURN(Container c, ReadRow(st));
      all.push_back(std::move(c));
    }
  }
  std::vector<Container> out;
  for (auto& c : all) {
    BERTH_RETURN_IF_ERROR(ReadChildren(tx, ns, c));
    if (filter->Match(Adapt(c))) out.push_back(std::move(c));
  }
  return out;
}

Result<Container> Create(Tx& tx, std::string_view ns, Container c) {
  BERTH_RETURN_IF_ERROR(Validate(c).Wrap("create container failed validation"));
  BERTH_RETURN_IF_ERROR(namespaces::Ensure(tx, ns));
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, ns, c.id));
  if (exists) return AlreadyExists("container {:?}", c.id);
  c.created_at = FromUnixNanos(Now());
  c.updated_at = c.created_at;
  label_rows::DropEmpty(c.labels);
  BERTH_RETURN_IF_ERROR(Write(tx, ns, c, /*insert=*/true));
  return c;
}

Result<Container> Update(Tx& tx, std::string_view ns, const Container& c,
                         const std::vector<std::string>& paths_in) {
  if (c.id.empty()) return InvalidArgument("must specify a container id");
  BERTH_ASSIGN_OR_RETURN(bool exists, Exists(tx, ns, c.id));
  if (!exists) return NotFound("container {:?}", c.id);
  BERTH_ASSIGN_OR_RETURN(Container updated, Get(tx, ns, c.id));
  TimePoint created_at = updated.created_at;

  std::vector<std::string> paths = paths_in;
  if (paths.empty()) {
    // A full replace covers only these; immutable fields must not differ, so that they can
    // become mutable later without changing what a full replace means.
    paths = {"labels", "spec", "extensions", "image", "snapshotkey"};
    if (updated.snapshotter != c.snapshotter) {
      return InvalidArgument("container.Snapshotter field is immutable");
    }
    if (updated.runtime.name != c.runtime.name) {
      return InvalidArgument("container.Runtime.Name field is immutable");
    }
  }
  for (const auto& path : paths) {
    if (path.starts_with("labels.")) {
      std::string key = path.substr(7);
      auto it = c.labels.find(key);
      updated.labels[key] = it == c.labels.end() ? "" : it->second;
    } else if (path.starts_with("extensions.")) {
      // containerd stores an empty Any for a key the request lacks; berth removes the key.
      std::string key = path.substr(11);
      if (auto it = c.extensions.find(key); it != c.extensions.end()) {
        updated.extensions[key] = it->second;
      } else {
        updated.extensions.erase(key);
      }
    } else if (path == "labels") {
      updated.labels = c.labels;
    } else if (path == "spec") {
      updated.spec = c.spec;
    } else if (path == "extensions") {
      updated.extensions = c.extensions;
    } else if (path == "image") {
      updated.image = c.image;
    } else if (path == "snapshotkey") {
      updated.snapshot_key = c.snapshot_key;
    } else {
      return InvalidArgument("cannot update {:?} field on {:?}", path, c.id);
    }
  }
  BERTH_RETURN_IF_ERROR(Validate(updated).Wrap("update failed validation"));
  updated.created_at = created_at;
  updated.updated_at = FromUnixNanos(Now());
  label_rows::DropEmpty(updated.labels);
  BERTH_RETURN_IF_ERROR(Write(tx, ns, updated, /*insert=*/false));
  return updated;
}

Status Delete(Tx& tx, std::string_view ns, std::string_view id) {
  // Labels and extensions go with the row (ON DELETE CASCADE).
  BERTH_ASSIGN_OR_RETURN(auto st, tx.Prepare("DELETE FROM containers WHERE namespace=?1 AND id=?2"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, ns).Bind(2, id).Run());
  if (tx.Changes() == 0) return NotFound("container {}", id);
  return Status::Ok();
}

}  // namespace berth::metadata::containers
