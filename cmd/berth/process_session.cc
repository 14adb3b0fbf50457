#include "berth/process_session.h"

#include <unistd.h>

#include "common/logging.h"

namespace berth::cli {

ProcessSession::ProcessSession(bool terminal)
    : terminal_(terminal), forwarder_([this](int sig) { OnSignal(sig); }) {}

ProcessSession::~ProcessSession() { FinishIo(false); }

void ProcessSession::StartIo(client::Client& client, const client::IoPaths& paths,
                             const std::string& container_id, const std::string& exec_id) {
  if (terminal_) raw_ = std::make_unique<RawTerminal>(STDIN_FILENO);
  io_ = std::make_unique<client::IoCopier>(
      paths, client::IoCopier::Streams{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO},
      [&client, container_id, exec_id] {
        // The fifo is closed already; this tells the runtime too (ctr ignores failures: the
        // process may not exist yet, or be gone).
        if (Status st = client.CloseIO(container_id, exec_id); !st.ok()) {
          log::Debug("close stdin", {{"id", container_id}, {"error", st.ToString()}});
        }
      });
}

void ProcessSession::Attach(client::Client& client, const std::string& container_id,
                            const std::string& exec_id) {
  {
    std::lock_guard lock(mu_);
    client_ = &client;
    container_id_ = container_id;
    exec_id_ = exec_id;
  }
  if (terminal_) Resize();
}

void ProcessSession::set_interrupt_handler(std::function<void(int)> on_interrupt) {
  std::lock_guard lock(mu_);
  on_interrupt_ = std::move(on_interrupt);
}

void ProcessSession::FinishIo(bool drain) {
  if (io_) {
    if (drain && !io_->WaitOutput(std::chrono::seconds(5))) {
      log::Warn("output did not end; dropping it");
    }
    io_.reset();
  }
  raw_.reset();
}

void ProcessSession::Resize() {
  auto size = TerminalSize(STDIN_FILENO);
  if (!size) return;
  std::lock_guard lock(mu_);
  if (client_ == nullptr) return;
  if (Status st = client_->ResizePty(container_id_, exec_id_, size->first, size->second);
      !st.ok()) {
    log::Warn("resize pty", {{"id", container_id_}, {"error", st.ToString()}});
  }
}

void ProcessSession::OnSignal(int sig) {
  if (sig == SIGWINCH) {
    if (terminal_) Resize();
    return;
  }
  std::lock_guard lock(mu_);
  if (client_ == nullptr) {
    const bool interrupt = sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
    if (interrupt && on_interrupt_) {
      on_interrupt_(sig);
    } else {
      early_signal_ = sig;
    }
    return;
  }
  if (terminal_) return;  // the pty carries ^C and friends itself
  log::Debug("forwarding signal", {{"id", container_id_}, {"signal", sig}});
  if (Status st = client_->KillTask(container_id_, static_cast<uint32_t>(sig), false, exec_id_);
      !st.ok()) {
    log::Warn("forward signal", {{"id", container_id_}, {"error", st.ToString()}});
  }
}

int ExitCodeOf(uint32_t status) { return status > 255 ? 255 : static_cast<int>(status); }

}  // namespace berth::cli
