// One blob into the namespaced content store from a producer of its bytes (a checkpoint's criu
// tar, its spec): committed under the caller's lease, or — on any failure — no ingest left.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "checkpoint/image_tar.h"
#include "common/status.h"
#include "metadata/content_store.h"

namespace berth::checkpoint {

struct Blob {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
};

// `produce` writes the blob's bytes to the sink it is given. `ref_hint` names the ingest (made
// unique here), as containerd's writeContent names it after the checkpoint path.
Result<Blob> StoreBlob(metadata::ContentStore& store, const metadata::ContentScope& scope,
                       std::string media_type, std::string_view ref_hint,
                       const std::function<Status(const ByteSink&)>& produce);

}  // namespace berth::checkpoint
