// A fifo standing in for a restored task's stdio where the checkpointed task had a fifo but the
// new one has none, or one of another mode (null I/O, a plain file): criu restores a fifo only
// onto a fifo of the same mode. It is made in `dir` with that mode, opened, and unlinked. For
// stdin the container reads EOF at once; for stdout/stderr the shim drains it on its loop into
// the new target (a file descriptor, or nowhere for null I/O), so the container never blocks.
//
// Thread-safety: the loop thread only.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "ttrpc/event_loop.h"

namespace berth::shim {

class StdioPipe {
 public:
  // stdin: the read end for the container (no writer: EOF).
  static Result<UniqueFd> EmptyInput(const std::string& dir, uint32_t mode);
  // stdout/stderr: `child` receives the write end for the container; what it writes is copied
  // to `target` (-1: discarded).
  static Result<std::unique_ptr<StdioPipe>> Output(ttrpc::EventLoop& loop, const std::string& dir, uint32_t mode,
                                                   UniqueFd target, UniqueFd* child);
  ~StdioPipe();
  StdioPipe(const StdioPipe&) = delete;
  StdioPipe& operator=(const StdioPipe&) = delete;

 private:
  StdioPipe(ttrpc::EventLoop& loop, UniqueFd read, UniqueFd target)
      : loop_(loop), read_(std::move(read)), target_(std::move(target)) {}
  // Reads what is there; false once the writers are gone.
  bool Drain();

  ttrpc::EventLoop& loop_;
  UniqueFd read_;
  UniqueFd target_;
  bool watched_ = false;
};

}  // namespace berth::shim
