// One process of a task: the init process or an exec'd one, with containerd's state machine
// (created -> running <-> paused -> stopped -> deleted), its exit, its stdio and its waiters.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/timeutil.h"
#include "shim/console.h"
#include "shim/process_io.h"
#include "shim/stdio_pipe.h"
#include "ttrpc/server.h"

namespace berth::shim {

enum class ProcessState { kCreated, kRunning, kPaused, kStopped, kDeleted };

// "created", "running", ... as runc and containerd's messages name them.
const char* StateName(ProcessState s);

struct Process {
  std::string id;  // exec id; "" for the init process
  ProcessState state = ProcessState::kCreated;
  int pid = 0;
  uint32_t exit_status = 0;
  TimePoint exited_at{};
  bool exited = false;
  StdioPaths stdio;
  std::optional<ProcessIo> io;        // non-terminal stdio
  std::unique_ptr<Console> console;   // terminal
  std::vector<std::unique_ptr<StdioPipe>> pipes;  // a restored task's stand-in stdio
  std::vector<ttrpc::Responder> waiters;
  std::string spec_json;              // exec: the OCI process spec

  bool is_init() const { return id.empty(); }
  // Records the exit, closes stdio (after flushing a terminal) and answers every waiter.
  void SetExited(uint32_t status);
  // Answers `r` with this process's exit (it must have exited).
  void AnswerWait(ttrpc::Responder& r) const;
  void CloseIo();
};

}  // namespace berth::shim
