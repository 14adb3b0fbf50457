#include "berth/transfer_display.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "berth/human.h"

namespace berth::cli {

using client::TransferState;

std::string ProgressBar(double fraction, int width) {
  width = std::max(width, 1);
  fraction = std::clamp(std::isnan(fraction) ? 0.0 : fraction, 0.0, 1.0);
  int filled = static_cast<int>(std::floor(fraction * width));
  std::string bar = "|";
  for (int i = 0; i < width; ++i) {
    if (i < filled) {
      bar += "+";
    } else if (i == filled && fraction < 1.0) {
      bar += ">";
    } else {
      bar += "-";
    }
  }
  return bar + "|";
}

std::string FormatElapsed(std::chrono::nanoseconds d) {
  double s = std::chrono::duration<double>(d).count();
  if (s < 60) return fmt::format("{:.1f} s", s);
  auto total = static_cast<int64_t>(s);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m{:02}s", total / 3600, (total / 60) % 60, total % 60);
}

TransferDisplay::TransferDisplay(std::ostream& out, bool terminal, bool push, int width)
    : out_(out), terminal_(terminal), push_(push), width_(std::max(width, 60)), start_(Clock::now()) {}

int64_t TransferDisplay::transferred() const {
  int64_t n = 0;
  for (const auto& [ref, row] : rows_) {
    if (row.progress.state == TransferState::kExists || row.progress.state == TransferState::kMounted) continue;
    n += std::max<int64_t>(0, row.progress.offset - row.progress.resumed_from);
  }
  return n;
}

std::string TransferDisplay::RowText(const client::TransferProgress& p) const {
  std::string state = client::TransferStateName(p.state, push_);
  if (p.state == TransferState::kRunning && p.resumed_from > 0) state = push_ ? "uploading" : "resuming";
  std::string bytes = p.state == TransferState::kWaiting ? "" : fmt::format("{}/{}", HumanBytes(p.offset), HumanBytes(p.size));
  std::string ref = p.ref;
  // ref: up to 32 columns, the rest for state, bar and bytes.
  if (ref.size() > 32) ref = ref.substr(0, 31) + "…";
  int bar_width = std::max(10, width_ - 32 - 14 - 24 - 6);
  std::string bar;
  if (p.state == TransferState::kRunning) {
    bar = ProgressBar(p.size > 0 ? static_cast<double>(p.offset) / static_cast<double>(p.size) : 0.0, bar_width);
  } else if (p.state != TransferState::kWaiting && p.state != TransferState::kFailed) {
    bar = ProgressBar(1.0, bar_width);
  } else {
    bar = std::string(static_cast<size_t>(bar_width) + 2, ' ');
  }
  return fmt::format("{:<33}{:<14}{} {:>23}", ref, state, bar, bytes);
}

void TransferDisplay::Update(const client::TransferProgress& progress, Clock::time_point now) {
  auto it = rows_.find(progress.ref);
  const bool is_new = it == rows_.end();
  TransferState before = is_new ? TransferState::kWaiting : it->second.progress.state;
  if (is_new) {
    order_.push_back(progress.ref);
    it = rows_.emplace(progress.ref, Row{progress}).first;
  } else {
    it->second.progress = progress;
  }
  if (!terminal_) {
    // Lines on state changes only (not for each chunk, not for waiting).
    if (progress.state == TransferState::kWaiting || (!is_new && before == progress.state)) return;
    const auto& p = progress;
    std::string verb = client::TransferStateName(p.state, push_);
    if (p.state == TransferState::kRunning) {
      std::string resumed = p.resumed_from > 0 ? fmt::format(" (resuming at {})", HumanBytes(p.resumed_from)) : "";
      out_ << fmt::format("{}: {} {}{}\n", p.ref, verb, HumanBytes(p.size), resumed);
    } else {
      out_ << fmt::format("{}: {} {}\n", p.ref, verb, HumanBytes(p.offset));
    }
    out_.flush();
    return;
  }
  const bool state_changed = is_new || before != progress.state;
  if (state_changed || now - last_draw_ >= std::chrono::milliseconds(100)) Draw(now);
}

void TransferDisplay::Draw(Clock::time_point now) {
  last_draw_ = now;
  std::string text;
  if (drawn_lines_ > 0) text += fmt::format("\033[{}A", drawn_lines_);  // back to the first row
  for (const auto& ref : order_) text += "\033[2K" + RowText(rows_.at(ref).progress) + "\n";
  double secs = std::chrono::duration<double>(now - start_).count();
  int64_t moved = transferred();
  std::string rate = secs > 0 ? HumanBytes(static_cast<int64_t>(static_cast<double>(moved) / secs)) + "/s" : "-";
  text += fmt::format("\033[2Kelapsed: {:<10} total: {:>10} ({})\n", FormatElapsed(now - start_), HumanBytes(moved), rate);
  drawn_lines_ = static_cast<int>(order_.size()) + 1;
  out_ << text << std::flush;
}

void TransferDisplay::Finish(Clock::time_point now) {
  if (terminal_) Draw(now);
}

}  // namespace berth::cli
