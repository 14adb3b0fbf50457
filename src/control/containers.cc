#include "control/containers.h"

#include "common/crash_point.h"
#include "common/logging.h"
#include "metadata/namespaces.h"
#include "github.com/containerd/containerd/api/events/container.pb.h"

namespace berth::control {

void Containers::Publish(const std::string& ns, std::string_view topic, const google::protobuf::Message& event) {
  Status st = publisher_.Publish(ns, topic, event);
  if (!st.ok()) log::Warn("publish container event", {{"namespace", ns}, {"topic", topic}, {"error", st.ToString()}});
}

Result<metadata::Container> Containers::Create(const std::string& ns, metadata::Container c) {
  metadata::Container created;
  BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(created, metadata::containers::Create(tx, ns, std::move(c)));
    return Status::Ok();
  }));
  CrashPoint("container.create.committed");
  log::Info("container created",
            {{"namespace", ns}, {"id", created.id}, {"runtime", created.runtime.name}, {"image", created.image}});
  containerd::events::ContainerCreate event;
  event.set_id(created.id);
  event.set_image(created.image);
  event.mutable_runtime()->set_name(created.runtime.name);
  if (created.runtime.options) *event.mutable_runtime()->mutable_options() = *created.runtime.options;
  Publish(ns, "/containers/create", event);
  return created;
}

Result<metadata::Container> Containers::Update(const std::string& ns, metadata::Container c,
                                               const std::vector<std::string>& paths) {
  metadata::Container updated;
  BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(updated, metadata::containers::Update(tx, ns, std::move(c), paths));
    return Status::Ok();
  }));
  log::Info("container updated", {{"namespace", ns}, {"id", updated.id}});
  containerd::events::ContainerUpdate event;
  event.set_id(updated.id);
  event.set_image(updated.image);
  for (const auto& [k, v] : updated.labels) (*event.mutable_labels())[k] = v;
  event.set_snapshot_key(updated.snapshot_key);
  Publish(ns, "/containers/update", event);
  return updated;
}

Status Containers::Delete(const std::string& ns, const std::string& id) {
  BERTH_RETURN_IF_ERROR(db_.Update([&](metadata::Tx& tx) { return metadata::containers::Delete(tx, ns, id); }));
  CrashPoint("container.delete.committed");
  log::Info("container deleted", {{"namespace", ns}, {"id", id}});
  containerd::events::ContainerDelete event;
  event.set_id(id);
  Publish(ns, "/containers/delete", event);
  if (schedule_gc_) schedule_gc_();  // its snapshot and image may now be unreferenced
  return Status::Ok();
}

Result<metadata::Container> Containers::Get(const std::string& ns, const std::string& id) const {
  Result<metadata::Container> out = NotFound("container {}", id);
  BERTH_RETURN_IF_ERROR(db_.View([&](metadata::Tx& tx) -> Status {
    out = metadata::containers::Get(tx, ns, id);
    return out.status();
  }));
  return out;
}

Result<std::vector<metadata::Container>> Containers::List(const std::string& ns,
                                                          const std::vector<std::string>& filters) const {
  std::vector<metadata::Container> all;
  BERTH_RETURN_IF_ERROR(db_.View([&](metadata::Tx& tx) -> Status {
    BERTH_ASSIGN_OR_RETURN(all, metadata::containers::List(tx, ns, filters));
    return Status::Ok();
  }));
  return all;
}

bool Containers::NamespaceExists(const std::string& ns) const {
  bool exists = false;
  db_.View([&](metadata::Tx& tx) -> Status {
       auto found = metadata::namespaces::Exists(tx, ns);
       exists = found.ok() && *found;
       return Status::Ok();
     }).IgnoreError();  // an unreadable DB: the namespace does not exist
  return exists;
}

void Containers::RemoveNamespaceIfEmpty(const std::string& ns) {
  Status st = db_.Update([&](metadata::Tx& tx) { return metadata::namespaces::Delete(tx, ns); });
  if (!st.ok() && !st.Is(Errc::kNotFound) && !st.Is(Errc::kFailedPrecondition)) {
    log::Warn("leaving namespace in place", {{"namespace", ns}, {"error", st.ToString()}});
  }
}

}  // namespace berth::control
