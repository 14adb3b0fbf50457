#include "metadata/lease_resources.h"

namespace berth::metadata::lease_resources {

std::string SnapshotType(std::string_view snapshotter) {
  return "snapshots/" + std::string(snapshotter);
}

Status ValidateType(std::string_view type) {
  if (type == kContent || type == kIngests) return Status::Ok();
  if (type.starts_with("snapshots/") && type.size() > 10) return Status::Ok();
  return InvalidArgument("unsupported lease resource type {:?}", type);
}

Status Add(Tx& tx, std::string_view ns, std::string_view lease, std::string_view type,
           std::string_view id) {
  BERTH_RETURN_IF_ERROR(ValidateType(type));
  {
    BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare("SELECT 1 FROM leases WHERE namespace=?1 AND id=?2"));
    q.Bind(1, ns).Bind(2, lease);
    BERTH_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return NotFound("lease {:?} does not exist", lease);
  }
  BERTH_ASSIGN_OR_RETURN(auto ins, tx.Prepare(
      "INSERT OR IGNORE INTO lease_resources(namespace, lease, type, resource) VALUES(?1, ?2, ?3, ?4)"));
  return ins.Bind(1, ns).Bind(2, lease).Bind(3, type).Bind(4, id).Run();
}

Status Remove(Tx& tx, std::string_view ns, std::string_view lease, std::string_view type,
              std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare(
      "DELETE FROM lease_resources WHERE namespace=?1 AND lease=?2 AND type=?3 AND resource=?4"));
  return del.Bind(1, ns).Bind(2, lease).Bind(3, type).Bind(4, id).Run();
}

Status RemoveFromAllLeases(Tx& tx, std::string_view ns, std::string_view type, std::string_view id) {
  BERTH_ASSIGN_OR_RETURN(auto del, tx.Prepare(
      "DELETE FROM lease_resources WHERE namespace=?1 AND type=?2 AND resource=?3"));
  return del.Bind(1, ns).Bind(2, type).Bind(3, id).Run();
}

Result<std::vector<Resource>> List(Tx& tx, std::string_view ns, std::string_view lease) {
  std::vector<Resource> out;
  BERTH_ASSIGN_OR_RETURN(auto q, tx.Prepare(
      "SELECT type, resource FROM lease_resources WHERE namespace=?1 AND lease=?2 ORDER BY type, resource"));
  q.Bind(1, ns).Bind(2, lease);
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(Resource{q.ColumnText(0), q.ColumnText(1)});
  }
  return out;
}

}  // namespace berth::metadata::lease_resources
