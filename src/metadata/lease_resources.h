// Lease membership of resources, shared by every store that creates resources under a
// lease (content, ingests, snapshots) and by the leases service.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata::lease_resources {

// Resource types as containerd names them.
inline constexpr std::string_view kContent = "content";
inline constexpr std::string_view kIngests = "ingests";
// Snapshots: "snapshots/<snapshotter>".
std::string SnapshotType(std::string_view snapshotter);

struct Resource {
  std::string type;
  std::string id;
};

// Adds `resource` to lease `lease` in `ns`. NotFound when the lease does not exist
// (containerd: "lease does not exist"). Adding twice is fine.
Status Add(Tx& tx, std::string_view ns, std::string_view lease, std::string_view type,
           std::string_view id);
// Removes it; removing one that is not there is fine.
Status Remove(Tx& tx, std::string_view ns, std::string_view lease, std::string_view type,
              std::string_view id);
// Removes it from every lease of `ns`: a resource that no longer exists must not keep a later
// one of the same id alive. None there is fine.
Status RemoveFromAllLeases(Tx& tx, std::string_view ns, std::string_view type, std::string_view id);
Result<std::vector<Resource>> List(Tx& tx, std::string_view ns, std::string_view lease);
// InvalidArgument unless `type` is one containerd knows: content, ingests, snapshots/<name>.
Status ValidateType(std::string_view type);

}  // namespace berth::metadata::lease_resources
