// The Stats of many tasks at once: one call per shim, all in flight together over their own
// connections, so a metrics request or a Prometheus scrape takes about the slowest answer, not
// the sum, and a hung shim costs one bound (`timeout`), not one per task after it.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "runtime/shim_task.h"

namespace berth::runtime {

// Each task's Stats (DeadlineExceeded for a shim that did not answer within `timeout`), in the
// order of `tasks`. Blocks: any thread but the event loop's.
std::vector<Result<shimapi::StatsResponse>> StatsOfAll(const std::vector<std::shared_ptr<ShimTask>>& tasks,
                                                       std::chrono::milliseconds timeout);

}  // namespace berth::runtime
