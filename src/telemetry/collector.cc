#include "telemetry/collector.h"

#include <fstream>

#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"
#include "runtime/shim_stats.h"

namespace berth::telemetry {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Families = std::map<std::string, MetricFamily>;
using Labels = std::vector<ClientMetric::Label>;

void Put(Families& out, const std::string& name, const std::string& help, MetricType type, Labels labels,
         double value) {
  MetricFamily& f = out[name];
  if (f.name.empty()) {
    f.name = name;
    f.help = help;
    f.type = type;
  }
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

bool Unpack(const google::protobuf::Any& any, google::protobuf::Message& m) {
  std::string_view url = any.type_url();
  return url.substr(url.rfind('/') + 1) == m.GetDescriptor()->full_name() && m.ParseFromString(any.value());
}

void AppendV1(const Labels& base, const io::containerd::cgroups::v1::Metrics& m, Families& out) {
  auto gauge = [&](const std::string& name, const std::string& help, double v, Labels extra = {}) {
    Labels l = base;
    l.insert(l.end(), extra.begin(), extra.end());
    Put(out, name, help, MetricType::Gauge, std::move(l), v);
  };
  auto counter = [&](const std::string& name, const std::string& help, double v, Labels extra = {}) {
    Labels l = base;
    l.insert(l.end(), extra.begin(), extra.end());
    Put(out, name, help, MetricType::Counter, std::move(l), v);
  };
  constexpr double kNs = 1e-9;
  if (m.has_cpu()) {
    const auto& u = m.cpu().usage();
    gauge("container_cpu_total_seconds", "The total cpu time", static_cast<double>(u.total()) * kNs);
    gauge("container_cpu_kernel_seconds", "The total kernel cpu time", static_cast<double>(u.kernel()) * kNs);
    gauge("container_cpu_user_seconds", "The total user cpu time", static_cast<double>(u.user()) * kNs);
    for (int i = 0; i < u.per_cpu_size(); ++i) {
      gauge("container_per_cpu_seconds", "The total cpu time per cpu", static_cast<double>(u.per_cpu(i)) * kNs,
            {{"cpu", std::to_string(i)}});
    }
    const auto& t = m.cpu().throttling();
    counter("container_cpu_throttle_periods_total", "The total cpu throttle periods", static_cast<double>(t.periods()));
    counter("container_cpu_throttled_periods_total", "The total cpu throttled periods",
            static_cast<double>(t.throttled_periods()));
    gauge("container_cpu_throttled_time_seconds", "The total cpu throttled time",
          static_cast<double>(t.throttled_time()) * kNs);
  }
  if (m.has_memory()) {
    const auto& mem = m.memory();
    gauge("container_memory_cache_bytes", "The cache amount used", static_cast<double>(mem.cache()));
    gauge("container_memory_rss_bytes", "The rss amount used", static_cast<double>(mem.rss()));
    gauge("container_memory_rss_huge_bytes", "The rss_huge amount used", static_cast<double>(mem.rss_huge()));
    gauge("container_memory_mapped_file_bytes", "The mapped_file amount used", static_cast<double>(mem.mapped_file()));
    gauge("container_memory_dirty_bytes", "The dirty amount", static_cast<double>(mem.dirty()));
    gauge("container_memory_writeback_bytes", "The writeback amount", static_cast<double>(mem.writeback()));
    gauge("container_memory_usage_usage_bytes", "The memory usage", static_cast<double>(mem.usage().usage()));
    gauge("container_memory_usage_limit_bytes", "The memory limit", static_cast<double>(mem.usage().limit()));
    gauge("container_memory_usage_max_bytes", "The memory maximum usage", static_cast<double>(mem.usage().max()));
    counter("container_memory_usage_failcnt_total", "The usage failcnt", static_cast<double>(mem.usage().failcnt()));
    gauge("container_memory_swap_usage_bytes", "The swap usage", static_cast<double>(mem.swap().usage()));
    gauge("container_memory_swap_limit_bytes", "The swap limit", static_cast<double>(mem.swap().limit()));
    gauge("container_memory_kernel_usage_bytes", "The kernel usage", static_cast<double>(mem.kernel().usage()));
  }
  if (m.has_pids()) {
    gauge("container_pids_current", "The current number of pids", static_cast<double>(m.pids().current()));
    gauge("container_pids_limit", "The limit to the number of pids allowed", static_cast<double>(m.pids().limit()));
  }
  if (m.has_blkio()) {
    auto entries = [&](const std::string& name, const std::string& help, bool bytes, const auto& list) {
      for (const auto& e : list) {
        Labels extra = {{"op", e.op()}, {"device", e.device()}, {"major", std::to_string(e.major())},
                        {"minor", std::to_string(e.minor())}};
        if (bytes) {
          gauge(name, help, static_cast<double>(e.value()), extra);
        } else {
          counter(name, help, static_cast<double>(e.value()), extra);
        }
      }
    };
    entries("container_blkio_io_service_bytes_recursive_bytes", "The blkio io service bytes recursive", true,
            m.blkio().io_service_bytes_recursive());
    entries("container_blkio_io_serviced_recursive_total", "The blkio io serviced recursive", false,
            m.blkio().io_serviced_recursive());
  }
}

void AppendV2(const Labels& base, const io::containerd::cgroups::v2::Metrics& m, Families& out) {
  auto gauge = [&](const std::string& name, const std::string& help, double v) {
    Put(out, name, help, MetricType::Gauge, base, v);
  };
  constexpr double kUs = 1e-6;
  if (m.has_cpu()) {
    gauge("container_cpu_usage_seconds", "Total cpu usage", static_cast<double>(m.cpu().usage_usec()) * kUs);
    gauge("container_cpu_user_seconds", "Current cpu usage in user space",
          static_cast<double>(m.cpu().user_usec()) * kUs);
    gauge("container_cpu_system_seconds", "Current cpu usage in kernel space",
          static_cast<double>(m.cpu().system_usec()) * kUs);
    Put(out, "container_cpu_nr_throttled_total", "Total count of throttled periods", MetricType::Counter, base,
        static_cast<double>(m.cpu().nr_throttled()));
    gauge("container_cpu_throttled_seconds", "Total time duration for which tasks have been throttled",
          static_cast<double>(m.cpu().throttled_usec()) * kUs);
  }
  if (m.has_memory()) {
    gauge("container_memory_usage_bytes", "Current memory usage", static_cast<double>(m.memory().usage()));
    gauge("container_memory_usage_limit_bytes", "Current memory usage limit",
          static_cast<double>(m.memory().usage_limit()));
    gauge("container_memory_swap_usage_bytes", "Current swap usage", static_cast<double>(m.memory().swap_usage()));
    gauge("container_memory_anon_bytes", "Anonymous memory", static_cast<double>(m.memory().anon()));
    gauge("container_memory_file_bytes", "File memory", static_cast<double>(m.memory().file()));
  }
  if (m.has_pids()) {
    gauge("container_pids_current", "The current number of pids", static_cast<double>(m.pids().current()));
    gauge("container_pids_limit", "The limit to the number of pids allowed", static_cast<double>(m.pids().limit()));
  }
}

uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

void AppendCgroupMetrics(const std::string& ns, const std::string& id, const google::protobuf::Any& stats,
                         std::map<std::string, prometheus::MetricFamily>& out) {
  Labels base = {{"container_id", id}, {"namespace", ns}};
  if (io::containerd::cgroups::v1::Metrics v1; Unpack(stats, v1)) {
    AppendV1(base, v1, out);
  } else if (io::containerd::cgroups::v2::Metrics v2; Unpack(stats, v2)) {
    AppendV2(base, v2, out);
  }
}

std::vector<MetricFamily> Collector::Collect() const {
  Families f;
  auto tasks = sources_.tasks ? sources_.tasks() : std::vector<std::shared_ptr<runtime::ShimTask>>{};
  std::map<std::string, uint64_t> tasks_per_ns;
  auto ooms = telemetry_.OomCounts();
  // All shims asked at once: a scrape takes about the slowest answer, a hung shim one bound.
  auto stats_of = runtime::StatsOfAll(tasks, runtime::ShimTask::kQuickCall);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto& task = tasks[i];
    ++tasks_per_ns[task->ns()];
    const auto& stats = stats_of[i];
    if (stats.ok() && stats->has_stats()) AppendCgroupMetrics(task->ns(), task->id(), stats->stats(), f);
    auto oom = ooms.find({task->ns(), task->id()});
    Put(f, "container_memory_oom_total", "The number of times a container has received an oom event",
        MetricType::Counter, {{"container_id", task->id()}, {"namespace", task->ns()}},
        oom == ooms.end() ? 0 : static_cast<double>(oom->second));
  }
  for (const auto& [ns, n] : tasks_per_ns) {
    Put(f, "berth_tasks", "Tasks (running or not) per namespace", MetricType::Gauge, {{"namespace", ns}},
        static_cast<double>(n));
  }
  Put(f, "berth_shims", "Shim processes berthd is connected to (one per task)", MetricType::Gauge, {},
      static_cast<double>(tasks.size()));
  if (sources_.containers) {
    for (const auto& [ns, n] : sources_.containers()) {
      Put(f, "berth_containers", "Containers per namespace", MetricType::Gauge, {{"namespace", ns}},
          static_cast<double>(n));
    }
  }
  if (sources_.images) {
    for (const auto& [ns, n] : sources_.images()) {
      Put(f, "berth_images", "Images per namespace", MetricType::Gauge, {{"namespace", ns}}, static_cast<double>(n));
    }
  }
  if (sources_.content_bytes) {
    Put(f, "berth_content_bytes", "Bytes of committed blobs in the content store", MetricType::Gauge, {},
        static_cast<double>(sources_.content_bytes()));
  }
  if (sources_.events) {
    Put(f, "berth_events_total", "Events published", MetricType::Counter, {}, static_cast<double>(sources_.events()));
  }
  if (sources_.event_subscribers) {
    Put(f, "berth_event_subscribers", "Event subscriptions open", MetricType::Gauge, {},
        static_cast<double>(sources_.event_subscribers()));
  }
  Put(f, "process_open_fds", "Number of open file descriptors", MetricType::Gauge, {},
      static_cast<double>(OpenFdCount()));
  Put(f, "berth_threads", "Threads of berthd", MetricType::Gauge, {}, static_cast<double>(ThreadCount()));
  Put(f, "process_resident_memory_bytes", "Resident memory size in bytes", MetricType::Gauge, {},
      static_cast<double>(ResidentBytes()));
  std::vector<MetricFamily> out;
  out.reserve(f.size());
  for (auto& [name, family] : f) out.push_back(std::move(family));
  return out;
}

}  // namespace berth::telemetry
