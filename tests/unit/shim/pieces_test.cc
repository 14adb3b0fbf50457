// The shim's small pure pieces: exit status encoding, socket naming, runtime error text,
// kill error kinds, runtime options, the kill-all rule.
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

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/berth-shim-unit-XXXXXX";
    path_ = ::mkdtemp(t);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(ExitStatus, CodesAndSignals) {
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

TEST(Socket, PathIsSha256OfAddressNamespaceId) {
  // sha256("/run/containerd/containerd.sock/default/t1"), as containerd's shim would name it.
  std::string p = SocketPath("/run/berth/s", "/run/containerd/containerd.sock", "default", "t1");
  EXPECT_EQ(p.rfind("/run/berth/s/", 0), 0u);
  EXPECT_EQ(p.size(), std::string("/run/berth/s/").size() + 64);
  EXPECT_LT(p.size(), 108u);
  EXPECT_EQ(p, SocketPath("/run/berth/s", "/run/containerd/containerd.sock/", "default", "t1"));
  EXPECT_NE(p, SocketPath("/run/berth/s", "/run/containerd/containerd.sock", "default", "t2"));
  EXPECT_EQ(SocketAddress("/a/b"), "unix:///a/b");
  EXPECT_EQ(SocketPathOf("unix:///a/b"), "/a/b");
  EXPECT_EQ(SocketPathOf("/a/b"), "/a/b");
}

TEST(Socket, ListenCanConnectAlreadyExists) {
  TempDir d;
  std::string path = (d.path() / "s" / "sock").string();
  auto fd = ListenUnix(path);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_TRUE(CanConnect(path));
  EXPECT_TRUE(ListenUnix(path).status().Is(Errc::kAlreadyExists));
  ::close(*fd);
  EXPECT_FALSE(CanConnect(path));
  RemoveSocket(path);
  EXPECT_FALSE(fs::exists(path));
}

TEST(RuntimeError, LastErrorLineOfJsonLog) {
  std::string log =
      "{\"level\":\"info\",\"msg\":\"starting\",\"time\":\"t\"}\n"
      "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n"
      "not json\n"
      "{\"level\":\"error\",\"msg\":\"runc create failed: exec: \\\"nonexist\\\": executable file not found in $PATH\\n\"}\n"
      "{\"level\":\"warning\",\"msg\":\"later\"}\n";
  EXPECT_EQ(LastRuntimeError(log), "runc create failed: exec: \"nonexist\": executable file not found in $PATH");
  EXPECT_EQ(LastRuntimeError(""), "");
}

TEST(RuntimeError, KillErrorsAsContainerdReadsThem) {
  EXPECT_TRUE(KillError(Status::Ok()).ok());
  Status s = KillError(Unknown("container not running"));
  EXPECT_TRUE(s.Is(Errc::kNotFound));
  EXPECT_EQ(s.message(), "process already finished");
  EXPECT_TRUE(KillError(Unknown("container \"x\" does not exist")).Is(Errc::kNotFound));
  EXPECT_TRUE(KillError(Unknown("boom")).Is(Errc::kUnknown));
}

TEST(RuntimeError, FailedCommandCarriesStderr) {
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

TEST(RuntimeError, JsonLogWinsOverStderr) {
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

TEST(RuntimeOptions, UnpackWriteRead) {
  RuncOptions o;
  o.set_binary_name("crun");
  o.set_root("/run/berth/runc");
  o.set_systemd_cgroup(true);
  google::protobuf::Any any;
  any.set_type_url("containerd.runc.v1.Options");
  any.set_value(o.SerializeAsString());
  auto u = UnpackOptions(any);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->binary_name(), "crun");
  any.set_type_url("types.googleapis.com/containerd.runc.v1.Options");
  EXPECT_TRUE(UnpackOptions(any).ok());
  any.set_type_url("something.Else");
  EXPECT_TRUE(UnpackOptions(any).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(UnpackOptions(google::protobuf::Any()).ok());

  TempDir d;
  EXPECT_TRUE(ReadOptions(d.path().string()).status().Is(Errc::kNotFound));
  ASSERT_TRUE(WriteOptions(d.path().string(), o).ok());
  auto back = ReadOptions(d.path().string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->binary_name(), "crun");
  EXPECT_TRUE(back->systemd_cgroup());
  std::ifstream in(d.path() / "options.json");
  std::string json((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(json.find("\"binary_name\""), std::string::npos) << json;

  RuntimeConfig rc = RuntimeConfigFor(o, "ns1", "/b");
  EXPECT_EQ(rc.binary, "crun");
  EXPECT_EQ(rc.root, "/run/berth/runc/ns1");
  EXPECT_EQ(rc.log_path, "/b/log.json");
  RuntimeConfig def = RuntimeConfigFor(RuncOptions(), "default", "/b");
  EXPECT_EQ(def.binary, "runc");
  EXPECT_EQ(def.root, "/run/containerd/runc/default");
}

TEST(RuntimeOptions, KillAllOnlyWithoutOwnPidNamespace) {
  TempDir d;
  std::string b = d.path().string();
  EXPECT_TRUE(ShouldKillAllOnExit(b));  // no config.json
  std::ofstream(d.path() / "config.json") << R"({"linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}})";
  EXPECT_FALSE(ShouldKillAllOnExit(b));
  std::ofstream(d.path() / "config.json") << R"({"linux":{"namespaces":[{"type":"pid","path":"/proc/1/ns/pid"}]}})";
  EXPECT_TRUE(ShouldKillAllOnExit(b));
  std::ofstream(d.path() / "config.json") << R"({"linux":{"namespaces":[{"type":"mount"}]}})";
  EXPECT_TRUE(ShouldKillAllOnExit(b));
}

TEST(Oom, KillCountFromMemoryEvents) {
  EXPECT_EQ(OomKillCount("low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n"), 1u);
  EXPECT_EQ(OomKillCount(""), 0u);
}

}  // namespace
}  // namespace berth::shim
