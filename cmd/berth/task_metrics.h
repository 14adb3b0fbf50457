// `tasks metrics` output: the main cgroup figures of a task's metrics, as ctr prints them.
#pragma once

#include <string>

#include "client/client.h"
#include "client/task_types.h"
#include "common/status.h"

namespace berth::cli {

// "ID TIMESTAMP" then "METRIC VALUE" rows (cgroups v1 or v2 data); kInvalidArgument when the
// data is neither.
Result<std::string> FormatMetricsTable(const client::TaskMetric& metric);
// The metrics of task `id` (its container's cgroup), for `tasks metrics` and `containers stats`:
// the task's NotFound, or NotFound when the shim sent none.
Result<client::TaskMetric> TaskMetricOf(client::Client& client, const std::string& id);
// The metrics data as JSON (proto field names).
Result<std::string> FormatMetricsJson(const client::TaskMetric& metric);

}  // namespace berth::cli
