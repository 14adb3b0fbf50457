#include "shim/exit_status.h"

#include <sys/wait.h>

namespace berth::shim {

uint32_t ExitStatusFromWait(int wait_status) {
  if (WIFEXITED(wait_status)) return static_cast<uint32_t>(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return 128u + static_cast<uint32_t>(WTERMSIG(wait_status));
  return 0;
}

}  // namespace berth::shim
