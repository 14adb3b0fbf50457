#include "runtime/shim_launcher.h"

#include <gtest/gtest.h>

#include "runtime/command.h"

namespace berth::runtime {
namespace {

TEST(ShimLauncherTest, MalformedRuntimeNameIsInvalidArgument) {
  ShimLauncher l({});
  auto r = l.Resolve("runc");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << r.status().ToString();
  EXPECT_TRUE(l.Resolve("").status().Is(Errc::kInvalidArgument));
}

TEST(ShimLauncherTest, UnknownShimIsNotFoundNamingTheBinary) {
  ShimLauncher l({});
  auto r = l.Resolve("io.containerd.nosuchshim.v7");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Errc::kNotFound));
  EXPECT_NE(r.status().message().find("containerd-shim-nosuchshim-v7"), std::string::npos);
}

TEST(ShimLauncherTest, RuncNamesUseTheConfiguredShim) {
  ShimLauncherConfig c;
  c.runc_shim = "/bin/true";
  ShimLauncher l(c);
  EXPECT_EQ(l.Resolve("io.containerd.runc.v2").value(), "/bin/true");
  EXPECT_EQ(l.Resolve("io.containerd.runc.v1").value(), "/bin/true");
  EXPECT_EQ(l.Resolve("io.containerd.runtime.v1.linux").value(), "/bin/true");  // as containerd 1.6
}

TEST(ShimLauncherTest, AbsolutePathIsUsedAsIs) {
  ShimLauncher l({});
  EXPECT_EQ(l.Resolve("/bin/sh").value(), "/bin/sh");
  EXPECT_TRUE(l.Resolve("/no/such/shim").status().Is(Errc::kNotFound));
}

TEST(ShimLauncherCommandTest, CapturesOutputExitCodeAndStdin) {
  Command c;
  c.path = "/bin/sh";
  c.args = {"-c", "cat; echo err >&2; echo \"$FOO\"; exit 7"};
  c.stdin_data = "input\n";
  c.extra_env = {"FOO=bar"};
  auto out = RunCommand(c);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->exit_code, 7);
  EXPECT_EQ(out->out, "input\nbar\n");
  EXPECT_EQ(out->err, "err\n");
}

TEST(ShimLauncherCommandTest, RunsInTheGivenDirectory) {
  Command c;
  c.path = "/bin/pwd";
  c.cwd = "/tmp";
  auto out = RunCommand(c);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->out, "/tmp\n");
}

TEST(ShimLauncherCommandTest, TimeoutKillsTheProgram) {
  Command c;
  c.path = "/bin/sleep";
  c.args = {"10"};
  c.timeout = std::chrono::milliseconds(200);
  auto out = RunCommand(c);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().Is(Errc::kDeadlineExceeded));
}

TEST(ShimLauncherCommandTest, MissingProgramIsUnavailable) {
  Command c;
  c.path = "/no/such/program";
  auto out = RunCommand(c);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().Is(Errc::kUnavailable)) << out.status().ToString();
}

}  // namespace
}  // namespace berth::runtime
