// berth-shim: exit status encoding (wait status to containerd exit codes).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "shim/exit_status.h"
#include "shim/oci_runtime.h"
#include "shim/oom_watcher.h"
#include "shim/runtime_options.h"
#include "shim/socket.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

TEST(ExitStatusTest, CodesAndSignals) {
  pid_t p = ::fork();
  if (p == 0) _exit(3);
  int st = 0;
  ::waitpid(p, &st, 0);
  EXPECT_EQ(ExitStatusFromWait(st), 3u);
  p = ::fork();
  if (p == 0) {
    ::pause();
    _exit(0);
  }
  ::kill(p, SIGKILL);
  ::waitpid(p, &st, 0);
  EXPECT_EQ(ExitStatusFromWait(st), 137u);
  EXPECT_EQ(kKilledExitStatus, 137u);
}

}  // namespace
}  // namespace berth::shim
