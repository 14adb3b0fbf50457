// How `berth pull` and `berth push` show their transfers. On a terminal: one row per blob
// (ref, state, a bar, bytes done/total), redrawn in place at most ten times a second, and a
// last row with the elapsed time and the overall throughput. Otherwise: one plain line per
// change of a blob's state ("layer-sha256:...: downloading 0 B/2.0 MiB"), so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "client/transfer.h"

namespace berth::cli {

// "|=====>    |": `width` cells between the bars, `fraction` in [0, 1] of them filled.
std::string ProgressBar(double fraction, int width);

// "1.2 s", "3m4s"-style elapsed time as ctr prints it ("elapsed: 1.2 s").
std::string FormatElapsed(std::chrono::nanoseconds d);

// Not thread-safe: calls must not overlap. Pull/Push call Update from their transfer threads one
// call at a time (their TransferCallback contract); Finish comes after they return.
class TransferDisplay {
 public:
  using Clock = std::chrono::steady_clock;

  // `push` picks the verbs ("uploading" vs "downloading"); `width` is the terminal's columns.
  TransferDisplay(std::ostream& out, bool terminal, bool push, int width = 100);

  // Takes one event (client::TransferCallback); draws now or at the next tick.
  void Update(const client::TransferProgress& progress, Clock::time_point now = Clock::now());
  // Draws the final state (terminal) .
  void Finish(Clock::time_point now = Clock::now());

  // Bytes moved so far (the offsets minus what resumed downloads started with).
  int64_t transferred() const;

 private:
  struct Row {
    client::TransferProgress progress;
  };
  void Draw(Clock::time_point now);
  std::string RowText(const client::TransferProgress& p) const;

  std::ostream& out_;
  bool terminal_;
  bool push_;
  int width_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  int drawn_lines_ = 0;
  std::vector<std::string> order_;  // refs in the order first seen
  std::map<std::string, Row> rows_;
};

}  // namespace berth::cli
