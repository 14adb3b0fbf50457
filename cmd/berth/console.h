// The caller's terminal for `run -t` / `exec -t` / `attach`: raw mode while a task owns it,
// and its size for ResizePty.
#pragma once

#include <termios.h>

#include <cstdint>
#include <optional>
#include <utility>

namespace berth::cli {

// Puts `fd` (a terminal) in raw mode; restores the previous mode when destroyed.
// Not thread-safe: made and destroyed by the command's thread (ProcessSession).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return saved_.has_value(); }

 private:
  const int fd_;  // borrowed (the caller's terminal): never closed here
  std::optional<termios> saved_;
};

// Columns and rows of the terminal on `fd`; nullopt when it is none.
std::optional<std::pair<uint32_t, uint32_t>> TerminalSize(int fd);

}  // namespace berth::cli
