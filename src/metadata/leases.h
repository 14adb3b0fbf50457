// Leases in the metadata DB, with containerd 1.6's semantics (metadata/leases.go): a lease
// holds resources (content, ingests, snapshots) against garbage collection until it is
// deleted. Expiry is only the label `containerd.io/gc.expire` (RFC 3339), which the
// collector reads; leases go with their namespace.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/labels.h"
#include "common/status.h"
#include "common/timeutil.h"
#include "metadata/db.h"
#include "metadata/lease_resources.h"

namespace berth::metadata {

struct Lease {
  std::string id;
  labels::Labels labels;
  TimePoint created_at{};
};

// Stateless: every call runs inside the caller's transaction.
namespace leases {

// The label that makes a lease expire (value RFC 3339), read by the garbage collector.
inline constexpr std::string_view kExpireLabel = "containerd.io/gc.expire";

// A fresh id as containerd's leases.WithRandomID makes them: "<nanoseconds>-<4 base64url>".
std::string RandomId();

// Creates the namespace if needed. The id is any non-empty string, as in containerd (its
// clients make ids with WithRandomID, which are not always identifiers). InvalidArgument
// for an empty id or labels over the limit, AlreadyExists `lease "x"`.
Result<Lease> Create(Tx& tx, std::string_view ns, Lease lease);
// NotFound `lease "x"`. Its resources go with it.
Status Delete(Tx& tx, std::string_view ns, std::string_view id);
// Leases of `ns` matching any of `filters` (fields `id`, `labels.<k>`), by id.
Result<std::vector<Lease>> List(Tx& tx, std::string_view ns, const std::vector<std::string>& filters);

// containerd's parseLeaseResource: "content" (id must be a digest), "ingests",
// "snapshots/<snapshotter>"; InvalidArgument for a malformed one, NotImplemented
// `resource type X not supported yet` for other types. Returns the normalized resource.
Result<lease_resources::Resource> ParseResource(const lease_resources::Resource& resource);
// NotFound `lease "x"` when the lease does not exist. Adding twice is fine.
Status AddResource(Tx& tx, std::string_view ns, std::string_view id,
                   const lease_resources::Resource& resource);
// NotFound `lease "x"`; removing a resource the lease does not hold is fine.
Status DeleteResource(Tx& tx, std::string_view ns, std::string_view id,
                      const lease_resources::Resource& resource);
// Content first, then ingests, then snapshots by snapshotter. NotFound `lease "x"`.
Result<std::vector<lease_resources::Resource>> ListResources(Tx& tx, std::string_view ns,
                                                             std::string_view id);

// The filter view of a lease (containerd's adaptLease). Refers to `lease`.
filters::FuncAdaptor Adapt(const Lease& lease);

}  // namespace leases
}  // namespace berth::metadata
