#include "client/temp_lease.h"

#include "common/logging.h"
#include "common/timeutil.h"

namespace berth::client {

Result<TempLease> TempLease::Acquire(const Client& caller, std::chrono::hours expiry) {
  if (!caller.lease().empty()) return TempLease(caller, false);
  auto expires = std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::now() + expiry);
  BERTH_ASSIGN_OR_RETURN(Lease lease, caller.CreateLease("", {{"containerd.io/gc.expire", FormatRfc3339(expires)}}));
  return TempLease(caller.WithLease(lease.id), true);
}

TempLease::~TempLease() {
  if (!owned_) return;
  const std::string& id = client_.lease();
  // Deleted through a client without the lease, as the operation's calls are over.
  if (Status st = client_.WithLease("").DeleteLease(id); !st.ok()) {
    log::Warn("failed to delete the operation's lease", {{"lease", id}, {"error", st.ToString()}});
  }
}

}  // namespace berth::client
