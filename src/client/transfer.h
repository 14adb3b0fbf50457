// What pulls and pushes report as they go: one event per change of a blob's transfer, so a CLI
// can draw progress bars (berth pull/push) or print lines.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace berth::client {

enum class TransferState {
  kWaiting,      // queued behind other transfers
  kRunning,      // bytes moving; `offset` says how far
  kDone,         // transferred (and, for a pull, committed)
  kExists,       // nothing to do: the store (pull) or the registry (push) has it
  kMounted,      // push: the registry mounted it from another repository
  kFailed,
};

// "waiting", "downloading"/"uploading", "done", "exists", "mounted", "failed".
std::string TransferStateName(TransferState state, bool push);

struct TransferProgress {
  std::string ref;         // containerd's ingest ref: "layer-sha256:...", "manifest-sha256:..."
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  int64_t offset = 0;        // bytes done
  int64_t resumed_from = 0;  // bytes a resumed download started with
  TransferState state = TransferState::kWaiting;
};

// Called from the transfer threads, one call at a time.
using TransferCallback = std::function<void(const TransferProgress&)>;

// containerd's remotes.MakeRefKey: the ingest ref a blob is fetched under, by media type
// ("manifest-", "index-", "layer-", "config-", else "unknown-") and digest. The same refs as
// containerd's, so a pull interrupted by one client is resumed by the other.
std::string IngestRef(const std::string& media_type, const std::string& digest);

}  // namespace berth::client
