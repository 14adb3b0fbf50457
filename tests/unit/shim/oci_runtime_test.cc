// berth-shim: the OCI runtime's error text: runc --log JSON, stderr, kill error kinds.
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
#include "support/temp_dir.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

TEST(OciRuntimeErrorTest, LastErrorLineOfJsonLog) {
  std::string log =
      "{\"level\":\"info\",\"msg\":\"starting\",\"time\":\"t\"}\n"
      "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n"
      "not json\n"
      "{\"level\":\"error\",\"msg\":\"runc create failed: exec: \\\"nonexist\\\": executable file not found in $PATH\\n\"}\n"
      "{\"level\":\"warning\",\"msg\":\"later\"}\n";
  EXPECT_EQ(LastRuntimeError(log), "runc create failed: exec: \"nonexist\": executable file not found in $PATH");
  EXPECT_EQ(LastRuntimeError(""), "");
}

TEST(OciRuntimeErrorTest, KillErrorsAsContainerdReadsThem) {
  EXPECT_TRUE(KillError(Status::Ok()).ok());
  Status s = KillError(Unknown("container not running"));
  EXPECT_TRUE(s.Is(Errc::kNotFound));
  EXPECT_EQ(s.message(), "process already finished");
  EXPECT_TRUE(KillError(Unknown("container \"x\" does not exist")).Is(Errc::kNotFound));
  EXPECT_TRUE(KillError(Unknown("boom")).Is(Errc::kUnknown));
}

TEST(OciRuntimeErrorTest, FailedCommandCarriesStderr) {
  RuntimeConfig c;
  c.binary = "sh";
  OciRuntime rt(c);
  auto r = rt.Run({"-c", "echo 'it broke' >&2; exit 2"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "it broke");
  auto ok = rt.Run({"-c", "cat; echo out"}, nullptr, "in\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->out, "in\nout\n");
}

TEST(OciRuntimeErrorTest, JsonLogWinsOverStderr) {
  TempDir d;
  RuntimeConfig c;
  c.binary = "sh";
  c.log_path = (d.path() / "log.json").string();
  std::ofstream(c.log_path) << "{\"level\":\"error\",\"msg\":\"old error\"}\n";
  // The "runtime" gets "--log PATH --log-format json" first: a script that appends to $2.
  std::string script = (d.path() / "rt.sh").string();
  std::ofstream(script) << "echo '{\"level\":\"error\",\"msg\":\"new error\"}' >> \"$2\"; echo stderr >&2; exit 1\n";
  c.binary = script;
  ::chmod(script.c_str(), 0755);
  OciRuntime rt2(c);
  auto r2 = rt2.Run({}, nullptr);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().message(), "new error");  // only what this command wrote
}

}  // namespace
}  // namespace berth::shim
