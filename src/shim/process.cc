#include "shim/process.h"

#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"

namespace berth::shim {

const char* StateName(ProcessState s) {
  switch (s) {
    case ProcessState::kCreated: return "created";
    case ProcessState::kRunning: return "running";
    case ProcessState::kPaused: return "paused";
    case ProcessState::kStopped: return "stopped";
    case ProcessState::kDeleted: return "deleted";
  }
  return "unknown";
}

void Process::SetExited(uint32_t status) {
  exit_status = status;
  exited_at = Clock::now();
  exited = true;
  state = ProcessState::kStopped;
  CloseIo();
  for (auto& w : waiters) AnswerWait(w);
  waiters.clear();
}

void Process::AnswerWait(ttrpc::Responder& r) const {
  containerd::task::v2::WaitResponse resp;
  resp.set_exit_status(exit_status);
  if (exited_at != TimePoint{}) *resp.mutable_exited_at() = ToProto(exited_at);
  r.Reply(resp);
}

void Process::CloseIo() {
  pipes.clear();
  if (console) {
    console->Shutdown();
    console.reset();
  }
  if (io) {
    io->Close();
    io.reset();
  }
}

}  // namespace berth::shim
