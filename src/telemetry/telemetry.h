// berthd's telemetry: what the task path, the event exchange and the garbage collector report,
// kept for the seed's periodic dump (containerd 0.0.x's go-metrics: the container-start-time
// timer, counters containers/events/events-subscribers, gauges threads/fds) and for Prometheus
// (a registry that [metrics] address serves, beside Collector's scrape-time figures).
//
// Thread-safety: every method is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "events/exchange.h"
#include "telemetry/timer.h"

namespace berth::telemetry {

// Figures owned elsewhere, read when the dump is made.
struct DumpSources {
  std::function<uint64_t()> containers;         // tasks the daemon runs
  std::function<uint64_t()> events;             // events published since start
  std::function<uint64_t()> event_subscribers;  // subscriptions open now
};

class Telemetry {
 public:
  Telemetry();

  // A container started (task create through the start of its init process).
  void ObserveStart(const std::string& ns, std::chrono::nanoseconds took);
  // Every event the exchange forwards: OOMs are counted per container (container_memory_oom_total).
  void ObserveEvent(const events::Envelope& env);
  // A garbage collection ran.
  void ObserveGc(std::chrono::nanoseconds took);

  void SetDumpSources(DumpSources sources);
  // The seed's dump, one string per line, without the logger's prefix:
  //   "timer container-start-time", "  count:              22", "  min:          25425883", ...
  std::vector<std::string> SeedDump();

  // OOM events seen, by (namespace, container id).
  std::map<std::pair<std::string, std::string>, uint64_t> OomCounts() const;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  Timer start_timer_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& start_seconds_;
  prometheus::Counter& gc_runs_;
  prometheus::Histogram& gc_seconds_;
  mutable std::mutex mu_;
  DumpSources sources_;
  std::map<std::pair<std::string, std::string>, uint64_t> ooms_;
};

// Logs Telemetry::SeedDump every `interval` on its own thread, each line prefixed as the seed's
// logger did ("[berthd] 2026/12/07 11:48:28 "), to stderr with the rest of the log.
// Not thread-safe: constructed and destroyed by its owner (the Server); it only reads Telemetry,
// which is thread-safe, from its thread.
class Dumper {
 public:
  Dumper(Telemetry& telemetry, std::chrono::nanoseconds interval);
  ~Dumper();  // stops and joins the thread
  Dumper(const Dumper&) = delete;
  Dumper& operator=(const Dumper&) = delete;

 private:
  Telemetry& telemetry_;
  std::chrono::nanoseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Threads and open fds of this process (the seed's goroutines and fds gauges).
uint64_t ThreadCount();
uint64_t OpenFdCount();

}  // namespace berth::telemetry
