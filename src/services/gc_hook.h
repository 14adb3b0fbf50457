// What services that delete things need from the garbage collector: a collection now (for
// deletes with `sync`, which return only once unreferenced resources are gone) or soon
// (every other delete, like containerd's "dirty" mark). The collector implements it.
#pragma once

#include "common/status.h"

namespace berth::services {

// Thread-safety: implementations must be thread-safe; services call both methods from any
// gRPC handler thread.
class GarbageCollector {
 public:
  virtual ~GarbageCollector() = default;
  // Collects synchronously; returns when done.
  virtual Status CollectNow() = 0;
  // Asks for a collection some time soon; never blocks.
  virtual void Schedule() = 0;
};

}  // namespace berth::services
