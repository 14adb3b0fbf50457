// A non-terminal process's stdio, handed to the OCI runtime without a copy: the container
// writes straight into the client's fifos and reads straight from its stdin fifo.
//
//  - stdout/stderr: the shim first opens the fifo O_RDONLY|O_NONBLOCK and keeps that reader
//    until the process exits, so the container never gets EPIPE when the client goes away;
//    then opens it O_WRONLY for the runtime (closed again once the runtime has it).
//    A plain file path or a file:// URI is opened for appending; "" is /dev/null.
//  - stdin: the shim holds the fifo O_RDWR (its "writer", until CloseIO or exit) so the
//    container does not read EOF before the client attaches, and opens a separate O_RDONLY
//    descriptor that becomes the container's stdin.
#pragma once

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "shim/oci_runtime.h"

namespace berth::shim {

struct StdioPaths {
  std::string in, out, err;
  bool terminal = false;
};

// Not thread-safe: berth-shim's one loop thread only.
class ProcessIo {
 public:
  // Opens what `paths` names (terminal stdio is not opened here: see Console).
  static Result<ProcessIo> Open(const StdioPaths& paths);

  // The fds for the runtime's child (valid until ReleaseChildFds).
  ChildStdio child() const { return {stdin_child_.get(), out_child_.get(), err_child_.get()}; }
  // After create/exec: the runtime's copy is in the container now.
  void ReleaseChildFds();
  // CloseIO: drops the shim's writer on stdin, so the container reads EOF once the client
  // closes its end too.
  void CloseStdin() { stdin_writer_.Reset(); }
  // The process exited: nothing more to keep.
  void Close();

 private:
  UniqueFd stdin_writer_, stdin_child_;
  UniqueFd out_keep_, out_child_;
  UniqueFd err_keep_, err_child_;
};

// Opens a fifo (or file) for writing as the stdout/stderr rules above say; `keep` receives
// the reader reference for a fifo.
Result<UniqueFd> OpenOutput(const std::string& path, UniqueFd* keep);
// For stdin: `writer` gets the O_RDWR reference, the result is a reading descriptor (blocking
// unless `nonblock`).
Result<UniqueFd> OpenInput(const std::string& path, UniqueFd* writer, bool nonblock);

}  // namespace berth::shim
