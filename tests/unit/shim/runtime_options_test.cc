// berth-shim: runtime options kept in the bundle, the kill-all rule.
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

TEST(RuntimeOptionsTest, UnpackWriteRead) {
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

TEST(RuntimeOptionsTest, KillAllOnlyWithoutOwnPidNamespace) {
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

}  // namespace
}  // namespace berth::shim
