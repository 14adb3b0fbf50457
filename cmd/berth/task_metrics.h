// `tasks metrics` output: the main cgroup figures of a task's metrics, as ctr prints them.
#pragma once

#include <string>

#include "client/task_types.h"
#include "common/status.h"

namespace berth::cli {

// "ID TIMESTAMP" then "METRIC VALUE" rows (cgroups v1 or v2 data); kInvalidArgument when the
// data is neither.
Result<std::string> FormatMetricsTable(const client::TaskMetric& metric);
// The metrics data as JSON (proto field names).
Result<std::string> FormatMetricsJson(const client::TaskMetric& metric);

}  // namespace berth::cli
