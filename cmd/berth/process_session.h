// The caller's side of a process it stays attached to (`run`, `tasks exec`, `tasks attach`):
// its stdio copied through the process's fifos, the terminal raw while a pty is in use and
// its size following SIGWINCH, and otherwise the signals berth gets forwarded to the process
// (ctr's --sig-proxy). Construct it before connecting: the signal mask must be set before the
// client starts threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "berth/console.h"
#include "berth/task_signals.h"
#include "client/cio.h"
#include "client/client.h"

namespace berth::cli {

// Thread-safety: StartIo, FinishIo and the destructor belong to the command's thread; the other
// methods may be called from any thread (one mutex and atomics, shared with the signal thread).
class ProcessSession {
 public:
  explicit ProcessSession(bool terminal);
  ~ProcessSession();

  // For `attach`, which learns whether the process has a terminal only once connected.
  void set_terminal(bool terminal) { terminal_ = terminal; }

  // Starts copying between fds 0/1/2 and `paths` (raw mode on stdin with a terminal); stdin's
  // EOF closes the process's stdin (CloseIO).
  void StartIo(client::Client& client, const client::IoPaths& paths,
               const std::string& container_id, const std::string& exec_id);
  // The process is running: from now on signals (or resizes) go to it. Resizes once.
  void Attach(client::Client& client, const std::string& container_id,
              const std::string& exec_id);
  // Waits (at most a few seconds; not at all when `drain` is false) for the process's output
  // to drain, then stops copying and restores the terminal.
  void FinishIo(bool drain = true);
  // A signal that came before Attach (0 if none): the caller should give up.
  int early_signal() const { return early_signal_.load(); }
  // Until Attach, SIGINT, SIGTERM, SIGHUP and SIGQUIT go to `on_interrupt` (on the signal
  // thread) instead of early_signal(): for work before the process exists that has to end at
  // once (run's pull). An empty function restores the default; it returns once a call of the
  // previous one has.
  void set_interrupt_handler(std::function<void(int)> on_interrupt);

 private:
  void OnSignal(int sig);
  void Resize();

  std::atomic<bool> terminal_;
  std::mutex mu_;
  client::Client* client_ = nullptr;  // guarded by mu_, set by Attach
  std::string container_id_, exec_id_;
  std::atomic<int> early_signal_{0};
  std::function<void(int)> on_interrupt_;  // guarded by mu_
  std::unique_ptr<RawTerminal> raw_;
  std::unique_ptr<client::IoCopier> io_;
  SignalForwarder forwarder_;  // last: stopped first
};

// The exit code berth returns for a process's exit status (at most 255).
int ExitCodeOf(uint32_t status);

}  // namespace berth::cli
