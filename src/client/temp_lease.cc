#include "client/temp_lease.h"

#include "common/logging.h"
#include "common/timeutil.h"

namespace berth::client {

Result<TempLease> TempLease::Acquire(Client& client, std::chrono::hours expiry) {
  if (!client.lease().empty()) return TempLease(client, "");
  auto expires = std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::now() + expiry);
  BERTH_ASSIGN_OR_RETURN(Lease lease, client.CreateLease("", {{"containerd.io/gc.expire", FormatRfc3339(expires)}}));
  client.set_lease(lease.id);
  return TempLease(client, lease.id);
}

TempLease::~TempLease() {
  if (id_.empty()) return;
  client_.set_lease("");
  if (Status st = client_.DeleteLease(id_); !st.ok()) {
    log::Warn("failed to delete the operation's lease", {{"lease", id_}, {"error", st.ToString()}});
  }
}

}  // namespace berth::client
