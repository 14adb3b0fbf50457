// A bounded pool of workers over a list: how Pull fetches and Push uploads their blobs in
// parallel (containerd's max-concurrent-downloads/uploads).
#pragma once

#include <cstddef>
#include <functional>

#include "common/status.h"

namespace berth::client {

// Calls work(i) for each i in [0, count) from up to `concurrency` threads (at least one, at
// most count; the calling thread is one of them), each thread taking the next i, until all
// are taken or stop() returns true. After each failed work(i), on_failure() runs (it should
// make stop() true). Returns once every thread is done: the first failure that is not
// kCanceled, else a kCanceled one, else Ok. Thread-safe if work, stop and on_failure are.
Status RunBounded(size_t count, int concurrency, const std::function<Status(size_t)>& work,
                  const std::function<bool()>& stop, const std::function<void()>& on_failure);

}  // namespace berth::client
