// berth-shim: the OOM kill count from memory.events.
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

TEST(OomWatcherTest, KillCountFromMemoryEvents) {
  EXPECT_EQ(OomKillCount("low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n"), 1u);
  EXPECT_EQ(OomKillCount(""), 0u);
}

}  // namespace
}  // namespace berth::shim
