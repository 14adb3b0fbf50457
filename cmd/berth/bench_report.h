// The table `berth bench` prints: per phase of the batch (start, teardown) the seed's timer
// figures over every container (count, min, max, mean, stddev, median, 75/95/99/99.9 %, in ms)
// and containers/s (completed containers over the phase's wall time).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace berth::cli {

struct BenchPhase {
  std::string name;                   // "start", "teardown"
  std::vector<int64_t> latencies_ns;  // one per container that completed the phase
  int failed = 0;                     // containers for which the phase failed
  std::chrono::nanoseconds wall{0};   // from the first container's step to the last's end
};

// Completed containers per second of wall time (0 when no time passed).
double PerSecond(const BenchPhase& phase);

// An aligned table, one row per phase, ending in '\n'.
std::string RenderBenchTable(const std::vector<BenchPhase>& phases);

}  // namespace berth::cli
