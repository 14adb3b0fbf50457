#include "telemetry/telemetry.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include <fmt/format.h>

#include "common/files.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace berth::telemetry {

namespace {

const prometheus::Histogram::BucketBoundaries& StartBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return b;
}

}  // namespace

Telemetry::Telemetry()
    : registry_(std::make_shared<prometheus::Registry>()),
      start_seconds_(prometheus::BuildHistogram()
                         .Name("berth_container_start_duration_seconds")
                         .Help("Time from a task's create to the start of its init process")
                         .Register(*registry_)),
      gc_runs_(prometheus::BuildCounter()
                   .Name("berth_gc_runs_total")
                   .Help("Garbage collections run")
                   .Register(*registry_)
                   .Add({})),
      gc_seconds_(prometheus::BuildHistogram()
                      .Name("berth_gc_duration_seconds")
                      .Help("Time a garbage collection took")
                      .Register(*registry_)
                      .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})) {}

void Telemetry::ObserveStart(const std::string& ns, std::chrono::nanoseconds took) {
  start_timer_.Update(took);
  start_seconds_.Add({{"namespace", ns}}, StartBuckets()).Observe(std::chrono::duration<double>(took).count());
}

void Telemetry::ObserveEvent(const events::Envelope& env) {
  if (env.topic() != "/tasks/oom") return;
  containerd::events::TaskOOM oom;
  if (!oom.ParseFromString(env.event().value())) return;
  std::lock_guard lock(mu_);
  ++ooms_[{env.namespace_(), oom.container_id()}];
}

void Telemetry::ObserveGc(std::chrono::nanoseconds took) {
  gc_runs_.Increment();
  gc_seconds_.Observe(std::chrono::duration<double>(took).count());
}

void Telemetry::SetDumpSources(DumpSources sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

std::map<std::pair<std::string, std::string>, uint64_t> Telemetry::OomCounts() const {
  std::lock_guard lock(mu_);
  return ooms_;
}

std::vector<std::string> Telemetry::SeedDump() {
  DumpSources sources;
  {
    std::lock_guard lock(mu_);
    sources = sources_;
  }
  auto read = [](const std::function<uint64_t()>& fn) -> uint64_t { return fn ? fn() : 0; };
  TimerSnapshot t = start_timer_.Snapshot();
  std::vector<std::string> out;
  // go-metrics' Log layout: labels padded to column 15, integers %9d, floats %12.2f.
  out.push_back("timer container-start-time");
  out.push_back(fmt::format("  count:       {:9d}", t.count));
  out.push_back(fmt::format("  min:         {:9d}", t.sample.min));
  out.push_back(fmt::format("  max:         {:9d}", t.sample.max));
  out.push_back(fmt::format("  mean:        {:12.2f}", t.sample.mean));
  out.push_back(fmt::format("  stddev:      {:12.2f}", t.sample.stddev));
  out.push_back(fmt::format("  median:      {:12.2f}", t.sample.p50));
  out.push_back(fmt::format("  75%:         {:12.2f}", t.sample.p75));
  out.push_back(fmt::format("  95%:         {:12.2f}", t.sample.p95));
  out.push_back(fmt::format("  99%:         {:12.2f}", t.sample.p99));
  out.push_back(fmt::format("  99.9%:       {:12.2f}", t.sample.p999));
  out.push_back(fmt::format("  1-min rate:  {:12.2f}", t.rate1));
  out.push_back(fmt::format("  5-min rate:  {:12.2f}", t.rate5));
  out.push_back(fmt::format("  15-min rate: {:12.2f}", t.rate15));
  out.push_back(fmt::format("  mean rate:   {:12.2f}", t.rate_mean));
  auto counter = [&](const char* name, uint64_t v) {
    out.push_back(fmt::format("counter {}", name));
    out.push_back(fmt::format("  count:       {:9d}", v));
  };
  auto gauge = [&](const char* name, uint64_t v) {
    out.push_back(fmt::format("gauge {}", name));
    out.push_back(fmt::format("  value:       {:9d}", v));
  };
  counter("containers", read(sources.containers));
  counter("events", read(sources.events));
  counter("events-subscribers", read(sources.event_subscribers));
  gauge("threads", ThreadCount());
  gauge("fds", OpenFdCount());
  return out;
}

uint64_t ThreadCount() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Threads:")) return std::strtoull(line.c_str() + 8, nullptr, 10);
  }
  return 0;
}

uint64_t OpenFdCount() {
  auto names = files::ListDir("/proc/self/fd");
  if (!names.ok() || names->empty()) return 0;
  return names->size() - 1;  // not the directory's own fd
}

Dumper::Dumper(Telemetry& telemetry, std::chrono::nanoseconds interval)
    : telemetry_(telemetry), interval_(interval) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      ::localtime_r(&now, &tm);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
      std::string text;
      for (const std::string& line : telemetry_.SeedDump()) text += fmt::format("[berthd] {} {}\n", stamp, line);
      std::fwrite(text.data(), 1, text.size(), stderr);  // one write: the dump's lines stay together
      std::fflush(stderr);
      lock.lock();
    }
  });
}

Dumper::~Dumper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace berth::telemetry
