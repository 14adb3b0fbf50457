#include "server/config.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

TEST(ConfigTest, DefaultsAreContainerdLike) {
  Config c;
  EXPECT_EQ(c.root, "/var/lib/berth");
  EXPECT_EQ(c.state, "/run/berth");
  EXPECT_EQ(c.address, "/run/berth/berth.sock");
  ASSERT_TRUE(Validate(c).ok());
}

TEST(ConfigTest, ParsesAllKeys) {
  auto c = ParseConfig(R"(
version = 1
root = "/tmp/r"
state = "/tmp/s"
instance_id = "node-1"
[grpc]
address = "unix:///tmp/b.sock"
max_recv_message_size = 1024
[debug]
level = "debug"
)", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->root, "/tmp/r");
  EXPECT_EQ(c->instance_id, "node-1");
  EXPECT_EQ(c->max_recv_message_size, 1024);
  EXPECT_EQ(c->log_level, "debug");
  ASSERT_TRUE(Validate(*c).ok());
  EXPECT_EQ(c->address, "/tmp/b.sock");
}

TEST(ConfigTest, RejectsUnknownKeysAndBadTypes) {
  auto c = ParseConfig("rot = \"/x\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(c.status().message().find("unknown key \"rot\""), std::string::npos);

  c = ParseConfig("[grpc]\naddress = 5\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("address must be a string"), std::string::npos);

  c = ParseConfig("root = \n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("t.toml:1"), std::string::npos);
}

// `containerd config default` of containerd 1.6, the parts a drop-in swap meets (trimmed).
constexpr const char* kContainerdDefault = R"(
disabled_plugins = []
imports = []
oom_score = -999
plugin_dir = ""
required_plugins = ["io.containerd.grpc.v1.tasks"]
root = "/var/lib/containerd"
state = "/run/containerd"
temp = ""
version = 2

[cgroup]
  path = ""

[debug]
  address = "/run/containerd/debug.sock"
  format = ""
  gid = 9
  level = "warn"
  uid = 0

[grpc]
  address = "/run/containerd/containerd.sock"
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216
  tcp_address = ""
  tcp_tls_ca = ""
  tcp_tls_cert = ""
  tcp_tls_key = ""
  uid = 0

[metrics]
  address = "127.0.0.1:1338"
  grpc_histogram = true

[plugins]

  [plugins."io.containerd.gc.v1.scheduler"]
    deletion_threshold = 0
    mutation_threshold = 100
    pause_threshold = 0.02
    schedule_delay = "0s"
    startup_delay = "100ms"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false

  [plugins."io.containerd.runtime.v1.linux"]
    no_shim = false
    runtime = "crun"
    runtime_root = "/run/mine/runc"
    shim = "containerd-shim"
    shim_debug = true

  [plugins."io.containerd.runtime.v2.task"]
    platforms = ["linux/amd64"]
    sched_core = false

[proxy_plugins]

[stream_processors]

[timeouts]
  "io.containerd.timeout.shim.cleanup" = "5s"

[ttrpc]
  address = "/run/containerd/containerd.sock.ttrpc"
  gid = 7
  uid = 0
)";

TEST(ConfigTest, ReadsContainerdsConfigToml) {
  auto c = ParseConfig(kContainerdDefault, "containerd.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->root, "/var/lib/containerd");
  EXPECT_EQ(c->state, "/run/containerd");
  EXPECT_EQ(c->address, "/run/containerd/containerd.sock");
  EXPECT_EQ(c->ttrpc_address, "/run/containerd/containerd.sock.ttrpc");
  EXPECT_EQ(c->ttrpc_gid, 7);
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_EQ(c->oom_score, -999);
  EXPECT_EQ(c->required_plugins, std::vector<std::string>{"io.containerd.grpc.v1.tasks"});
  EXPECT_EQ(c->linux_v1.binary_name, "crun");
  EXPECT_EQ(c->linux_v1.root, "/run/mine/runc");
  EXPECT_EQ(c->runc.binary_name, "") << "the v1 runtime's settings stay the v1 runtime's";
  EXPECT_TRUE(c->shim_debug);
  EXPECT_EQ(c->metrics_address, "127.0.0.1:1338");
  EXPECT_EQ(c->debug_address, "/run/containerd/debug.sock");
  EXPECT_EQ(c->debug_gid, 9);
  EXPECT_TRUE(c->metrics_grpc_histogram);
  // CRI is named once as ignored; berth's own plugins with non-default settings are noted too.
  std::string notes;
  for (const auto& n : c->notes) notes += n + "\n";
  EXPECT_NE(notes.find("io.containerd.grpc.v1.cri"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("io.containerd.grpc.v1.cri"), notes.rfind("io.containerd.grpc.v1.cri")) << notes;
  EXPECT_NE(notes.find("timeouts"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("plugin_dir"), std::string::npos) << "empty values are not noted: " << notes;
  EXPECT_EQ(notes.find("metrics"), std::string::npos) << "[metrics] is served: " << notes;
  EXPECT_EQ(notes.find("debug"), std::string::npos) << "[debug] is served: " << notes;
  ASSERT_TRUE(Validate(*c).ok());
}

TEST(ConfigTest, RuncV2DefaultsAndStrictKnownSections) {
  auto c = ParseConfig(R"(
version = 2
[plugins."io.containerd.runc.v2"]
  BinaryName = "crun"
  SystemdCgroup = true
  ShimCgroup = "/shims"
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->runc.binary_name, "crun");
  EXPECT_TRUE(c->runc.systemd_cgroup);
  EXPECT_EQ(c->runc.shim_cgroup, "/shims");

  auto typo = ParseConfig("version = 2\n[plugins.\"io.containerd.runc.v2\"]\nBinaryname = \"x\"\n", "t.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("Binaryname"), std::string::npos);
  auto grpc_typo = ParseConfig("version = 2\n[grpc]\nadress = \"/x\"\n", "t.toml");
  EXPECT_FALSE(grpc_typo.ok());
  auto bad_version = ParseConfig("version = 3\n", "t.toml");
  ASSERT_FALSE(bad_version.ok());
  EXPECT_NE(bad_version.status().message().find("version"), std::string::npos);
  auto wrong_type =
      ParseConfig("version = 2\n[plugins.\"io.containerd.runtime.v1.linux\"]\nshim_debug = \"yes\"\n", "t");
  EXPECT_FALSE(wrong_type.ok());
}

TEST(ConfigTest, AnEmptyDebugLevelKeepsTheDefault) {
  // `containerd config default` writes level = "".
  auto c = ParseConfig("version = 2\n[debug]\n  level = \"\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log_level, "info");
}

TEST(ConfigTest, VersionOneFilesUsePluginIds) {
  auto c = ParseConfig("[plugins.linux]\nruntime = \"crun\"\n[plugins.cri]\nsandbox_image = \"x\"\n", "v1.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->linux_v1.binary_name, "crun");
  ASSERT_EQ(c->notes.size(), 1u);
  EXPECT_NE(c->notes[0].find("cri"), std::string::npos);
}

TEST(ConfigTest, DumpReadsBack) {
  Config c;
  c.root = "/r";
  c.state = "/s";
  c.oom_score = -500;
  c.cgroup_path = "/berth";
  c.runc.binary_name = "crun";
  c.linux_v1.root = "/v1root";
  c.required_plugins = {"io.containerd.grpc.v1.tasks"};
  auto back = ParseConfig(ToToml(c), "dump");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << ToToml(c);
  EXPECT_EQ(back->root, "/r");
  EXPECT_EQ(back->oom_score, -500);
  EXPECT_EQ(back->cgroup_path, "/berth");
  EXPECT_EQ(back->runc.binary_name, "crun");
  EXPECT_EQ(back->linux_v1.root, "/v1root");
  EXPECT_EQ(back->required_plugins, c.required_plugins);
  EXPECT_TRUE(back->notes.empty());
  auto defaults = ParseConfig(ToToml(Config{}), "default");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->address, Config{}.address);
}

TEST(ConfigTest, ValidateCatchesBadValues) {
  Config c;
  c.state = c.root;
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.address = "/" + std::string(200, 'x');
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.instance_id = "bad id";
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.oom_score = 2000;
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.cgroup_path = "relative";
  EXPECT_FALSE(Validate(c).ok());
  c = Config{};
  c.root = "relative/dir";
  ASSERT_TRUE(Validate(c).ok());
  EXPECT_TRUE(c.root.is_absolute());
}

TEST(ConfigTest, TheSeedsKeysAndTheRestAddress) {
  auto c = ParseConfig(R"(
concurrency = 4
metrics_interval = "5s"
oom_notify = false
[rest]
  address = "127.0.0.1:8888"
)", "seed.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->concurrency, 4);
  EXPECT_EQ(c->metrics_interval, std::chrono::seconds(5));
  EXPECT_FALSE(c->oom_notify);
  EXPECT_EQ(c->rest_address, "127.0.0.1:8888");
  EXPECT_EQ(Config{}.concurrency, 10);  // the seed's default
  EXPECT_EQ(Config{}.metrics_interval, std::chrono::minutes(1));
  EXPECT_TRUE(Config{}.oom_notify);
  auto back = ParseConfig(ToToml(*c), "dump");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << ToToml(*c);
  EXPECT_EQ(back->metrics_interval, std::chrono::seconds(5));
  EXPECT_EQ(back->rest_address, "127.0.0.1:8888");
  EXPECT_FALSE(back->oom_notify);

  auto bad = ParseConfig("metrics_interval = \"soon\"\n", "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("metrics_interval"), std::string::npos);
  EXPECT_FALSE(ParseConfig("concurrency = \"ten\"\n", "bad.toml").ok());
  Config negative;
  negative.concurrency = -1;
  EXPECT_NE(Validate(negative).message().find("concurrency"), std::string::npos);
}

}  // namespace
}  // namespace berth::server
