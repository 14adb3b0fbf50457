// Terminals: the runtime's --console-socket handshake and the copy between the pty master
// and the client's fifos, on the event loop (non-blocking, bounded buffers).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "ttrpc/event_loop.h"

namespace berth::shim {

// A listening unix socket in a fresh temp dir; the runtime connects and sends the pty master
// with SCM_RIGHTS. Removed with its owner.
// Not thread-safe: berth-shim's one loop thread only.
class ConsoleSocket {
 public:
  static Result<std::unique_ptr<ConsoleSocket>> Create();
  ~ConsoleSocket();
  const std::string& path() const { return path_; }
  // Accepts the runtime's connection (it is already queued once `create`/`exec` returned)
  // and takes the fd it sent.
  Result<UniqueFd> ReceiveMaster(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  ConsoleSocket() = default;
  std::string dir_, path_;
  UniqueFd listen_;
};

// Copies `src` to `dst` as the loop says they are ready. At most kBuffer bytes wait for `dst`;
// while that is full `src` is not read (back-pressure). A write error drops the data (the
// client went away) but reading goes on, so the writer never blocks.
// Not thread-safe: berth-shim's one loop thread only.
class Pump {
 public:
  static constexpr size_t kBuffer = 32 * 1024;
  Pump(ttrpc::EventLoop& loop, UniqueFd src, UniqueFd dst, std::function<void()> on_eof);
  ~Pump();
  Status Start();
  // Reads what `src` has right now and writes it out (best effort, bounded): used when the
  // process exited so its last output is not lost.
  void Drain();
  void Stop();
  int dst() const { return dst_.get(); }

 private:
  void OnReadable();
  void Flush();
  void Update();
  ttrpc::EventLoop& loop_;
  UniqueFd src_, dst_;
  std::function<void()> on_eof_;
  std::string buf_;
  bool src_added_ = false, dst_added_ = false, reading_ = true, stopped_ = false;
};

// A process's terminal: master -> stdout fifo, stdin fifo -> master, window size.
// Not thread-safe: berth-shim's one loop thread only.
class Console {
 public:
  static Result<std::unique_ptr<Console>> Start(ttrpc::EventLoop& loop, UniqueFd master,
                                                const std::string& stdin_path,
                                                const std::string& stdout_path);
  ~Console();
  Status Resize(uint32_t width, uint32_t height);
  // CloseIO: drop the shim's writer on the stdin fifo; when the client closes too, the
  // terminal gets EOF (^D).
  void CloseStdin() { stdin_writer_.Reset(); }
  // The process exited: flush what the master still holds, then stop.
  void Shutdown();

 private:
  explicit Console(ttrpc::EventLoop& loop) : loop_(loop) {}
  ttrpc::EventLoop& loop_;
  UniqueFd master_;
  UniqueFd stdin_writer_, stdout_keep_;
  std::unique_ptr<Pump> out_, in_;
};

}  // namespace berth::shim
