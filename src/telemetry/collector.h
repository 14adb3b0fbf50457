// The Prometheus figures made at scrape time: per task, its cgroup's metrics under containerd's
// `container_*` family names (cgroups v1 and v2 as containerd's metrics/cgroups collectors name
// them, labels container_id and namespace; CPU times in seconds where containerd says
// nanoseconds, since promtool's lint takes only base units), OOMs seen per container, and the
// daemon's own gauges (tasks, shims, containers, images, content bytes, events, fds, threads).
//
// Thread-safety: Collect may run on the exposer's threads while the daemon runs; the sources
// must be safe to call from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "runtime/shim_task.h"
#include "telemetry/telemetry.h"

namespace berth::telemetry {

struct CollectorSources {
  std::function<std::vector<std::shared_ptr<runtime::ShimTask>>()> tasks;  // every namespace
  std::function<std::map<std::string, uint64_t>()> containers;            // per namespace
  std::function<std::map<std::string, uint64_t>()> images;                // per namespace
  std::function<uint64_t()> content_bytes;
  std::function<uint64_t()> events;
  std::function<uint64_t()> event_subscribers;
};

class Collector final : public prometheus::Collectable {
 public:
  Collector(const Telemetry& telemetry, CollectorSources sources)
      : telemetry_(telemetry), sources_(std::move(sources)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Telemetry& telemetry_;
  CollectorSources sources_;
};

// One task's cgroup metrics (the Any a shim's Stats returns: io.containerd.cgroups.v1.Metrics or
// v2) as containerd's families, appended to `out` (a family per name). Exposed for tests.
void AppendCgroupMetrics(const std::string& ns, const std::string& id, const google::protobuf::Any& stats,
                         std::map<std::string, prometheus::MetricFamily>& out);

}  // namespace berth::telemetry
