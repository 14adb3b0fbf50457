// Runs a helper program (a shim's `start` or `delete` action) from the multi-threaded daemon:
// posix_spawn (no fork of a threaded process), its own cwd and environment, stdin fed from a
// buffer, stdout and stderr captured, bounded by a timeout after which it is killed.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::runtime {

struct Command {
  std::string path;                // absolute path of the program
  std::vector<std::string> args;   // argv[1..]
  std::vector<std::string> extra_env;  // "K=V", added to (and overriding) the daemon's environment
  std::filesystem::path cwd;       // empty: inherit
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct CommandOutput {
  int exit_code = 0;  // 128+signal when killed by a signal
  std::string out;
  std::string err;
};

// Unavailable if it cannot be started; DeadlineExceeded if it ran out of time (then it was
// killed). A non-zero exit is not an error here: the caller reads exit_code.
// Thread-safe: may run from several threads at once (pipes are O_CLOEXEC, the environment is only
// read, the child is waited for by its pid).
Result<CommandOutput> RunCommand(const Command& cmd);

}  // namespace berth::runtime
