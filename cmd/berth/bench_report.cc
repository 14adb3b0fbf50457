#include "berth/bench_report.h"

#include <fmt/format.h>

#include "berth/output.h"
#include "common/sample_stats.h"

namespace berth::cli {

namespace {
std::string Ms(double ns) { return fmt::format("{:.2f}", ns / 1e6); }
}  // namespace

double PerSecond(const BenchPhase& phase) {
  const double seconds = std::chrono::duration<double>(phase.wall).count();
  if (seconds <= 0) return 0;
  return static_cast<double>(phase.latencies_ns.size()) / seconds;
}

std::string RenderBenchTable(const std::vector<BenchPhase>& phases) {
  Table table({"PHASE", "COUNT", "FAILED", "MIN", "MAX", "MEAN", "STDDEV", "MEDIAN", "75%", "95%", "99%", "99.9%",
               "CONTAINERS/S"});
  for (const BenchPhase& phase : phases) {
    const SampleStats s = Summarize(phase.latencies_ns);
    table.AddRow({phase.name, std::to_string(s.count), std::to_string(phase.failed),
                  Ms(static_cast<double>(s.min)), Ms(static_cast<double>(s.max)), Ms(s.mean), Ms(s.stddev),
                  Ms(s.p50), Ms(s.p75), Ms(s.p95), Ms(s.p99), Ms(s.p999), fmt::format("{:.1f}", PerSecond(phase))});
  }
  return table.Render();
}

}  // namespace berth::cli
