#include "berth/task_metrics.h"

#include <google/protobuf/util/json_util.h>

#include "berth/output.h"
#include "client/typeurl.h"
#include "berth/human.h"
#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace berth::cli {
namespace {

namespace v1 = io::containerd::cgroups::v1;
namespace v2 = io::containerd::cgroups::v2;

// Go's %v of a []uint64: "[1 2 3]".
std::string GoList(const google::protobuf::RepeatedField<uint64_t>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) out += (i ? " " : "") + std::to_string(values[i]);
  return out + "]";
}

void AddV1(Table& t, const v1::Metrics& m) {
  if (m.has_memory()) {
    t.AddRow({"memory.usage_in_bytes", std::to_string(m.memory().usage().usage())});
    t.AddRow({"memory.limit_in_bytes", std::to_string(m.memory().usage().limit())});
    t.AddRow({"memory.stat.cache", std::to_string(m.memory().total_cache())});
  }
  if (m.has_cpu()) {
    t.AddRow({"cpuacct.usage", std::to_string(m.cpu().usage().total())});
    t.AddRow({"cpuacct.usage_percpu", GoList(m.cpu().usage().per_cpu())});
  }
  if (m.has_pids()) {
    t.AddRow({"pids.current", std::to_string(m.pids().current())});
    t.AddRow({"pids.limit", std::to_string(m.pids().limit())});
  }
}

void AddV2(Table& t, const v2::Metrics& m) {
  if (m.has_pids()) {
    t.AddRow({"pids.current", std::to_string(m.pids().current())});
    t.AddRow({"pids.limit", std::to_string(m.pids().limit())});
  }
  if (m.has_cpu()) {
    t.AddRow({"cpu.usage_usec", std::to_string(m.cpu().usage_usec())});
    t.AddRow({"cpu.user_usec", std::to_string(m.cpu().user_usec())});
    t.AddRow({"cpu.system_usec", std::to_string(m.cpu().system_usec())});
    t.AddRow({"cpu.nr_periods", std::to_string(m.cpu().nr_periods())});
    t.AddRow({"cpu.nr_throttled", std::to_string(m.cpu().nr_throttled())});
    t.AddRow({"cpu.throttled_usec", std::to_string(m.cpu().throttled_usec())});
  }
  if (m.has_memory()) {
    t.AddRow({"memory.usage", std::to_string(m.memory().usage())});
    t.AddRow({"memory.usage_limit", std::to_string(m.memory().usage_limit())});
    t.AddRow({"memory.swap_usage", std::to_string(m.memory().swap_usage())});
    t.AddRow({"memory.swap_limit", std::to_string(m.memory().swap_limit())});
  }
}

}  // namespace

Result<std::string> FormatMetricsTable(const client::TaskMetric& metric) {
  Table head({"ID", "TIMESTAMP"});
  head.AddRow({metric.id, FormatRfc3339NanoUtc(metric.timestamp)});
  Table body({"METRIC", "VALUE"});
  auto name = client::TypeNameFromUrl(metric.data.type_url());
  if (name == v1::Metrics::descriptor()->full_name()) {
    v1::Metrics m;
    if (!m.ParseFromString(metric.data.value())) return InvalidArgument("bad cgroups v1 metrics");
    AddV1(body, m);
  } else if (name == v2::Metrics::descriptor()->full_name()) {
    v2::Metrics m;
    if (!m.ParseFromString(metric.data.value())) return InvalidArgument("bad cgroups v2 metrics");
    AddV2(body, m);
  } else {
    return InvalidArgument("cannot convert metric data of type {:?} to cgroups metrics",
                           metric.data.type_url());
  }
  return head.Render() + "\n" + body.Render();
}

Result<std::string> FormatMetricsJson(const client::TaskMetric& metric) {
  auto name = client::TypeNameFromUrl(metric.data.type_url());
  std::unique_ptr<google::protobuf::Message> m;
  if (name == v1::Metrics::descriptor()->full_name()) m = std::make_unique<v1::Metrics>();
  if (name == v2::Metrics::descriptor()->full_name()) m = std::make_unique<v2::Metrics>();
  if (!m || !m->ParseFromString(metric.data.value())) {
    return InvalidArgument("cannot decode metric data of type {:?}", metric.data.type_url());
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(*m, &out, options).ok()) {
    return InvalidArgument("cannot print metrics as JSON");
  }
  return out;
}

Result<client::TaskMetric> TaskMetricOf(client::Client& client, const std::string& id) {
  BERTH_RETURN_IF_ERROR(client.GetTask(id).status());
  BERTH_ASSIGN_OR_RETURN(auto metrics, client.TaskMetrics({"id==" + id}));
  if (metrics.empty()) return NotFound("no metrics received for task {:?}", id);
  return metrics.front();
}

}  // namespace berth::cli
