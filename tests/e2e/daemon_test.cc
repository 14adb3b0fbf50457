// berthd as a process: version, plugins, restart persistence, socket and lock rules, signals.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "harness.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string ServerUuid(const CommandResult& version_out) {
  std::smatch m;
  std::regex re("UUID: ([0-9a-f-]{36})");
  if (std::regex_search(version_out.out, m, re)) return m[1];
  return "";
}

class DaemonE2E : public BerthdTest {};

TEST_F(DaemonE2E, CtrVersionShowsBerth) {
  auto r = daemon_->Ctr({"version"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("Server:"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Version: +v[0-9.]+-berth"));
  EXPECT_NE(ServerUuid(r), "");
}

TEST_F(DaemonE2E, BerthVersion) {
  auto r = daemon_->Berth({"version"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("-berth"));
  EXPECT_THAT(r.out, HasSubstr(ServerUuid(daemon_->Ctr({"version"}))));
}

TEST_F(DaemonE2E, PluginsListTheWiredComponents) {
  auto r = daemon_->Ctr({"plugins", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* id : {"version", "namespaces", "events", "introspection", "exchange"}) {
    EXPECT_THAT(r.out, ::testing::ContainsRegex(std::string(" ") + id + " +.* ok")) << id;
  }
  // Filters are applied by the daemon.
  r = daemon_->Ctr({"plugins", "ls", "id==namespaces"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("namespaces"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("introspection")));
  r = daemon_->Ctr({"plugins", "ls", "type==io.containerd.grpc.v1,id~=^ev"});
  EXPECT_THAT(r.out, HasSubstr("events"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("namespaces")));

  r = daemon_->Berth({"plugins", "ls"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("introspection"));
}

TEST_F(DaemonE2E, BadFilterIsInvalidArgument) {
  auto r = daemon_->Ctr({"plugins", "ls", "id=="});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("invalid argument"));
}

TEST_F(DaemonE2E, RestartKeepsNamespacesAndUuid) {
  ASSERT_EQ(daemon_->Ctr({"namespaces", "create", "keep", "x=y"}).exit_code, 0);
  std::string uuid = ServerUuid(daemon_->Ctr({"version"}));
  ASSERT_NE(uuid, "");

  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  daemon_->Start();
  EXPECT_THAT(daemon_->Ctr({"namespaces", "ls"}).out, ::testing::ContainsRegex("keep +x=y"));
  EXPECT_EQ(ServerUuid(daemon_->Ctr({"version"})), uuid);

  // And after a crash.
  daemon_->Kill();
  daemon_->Start();
  EXPECT_THAT(daemon_->Ctr({"namespaces", "ls"}).out, ::testing::ContainsRegex("keep +x=y"));
  EXPECT_EQ(ServerUuid(daemon_->Ctr({"version"})), uuid);
}

TEST_F(DaemonE2E, SocketIsPrivateToItsGroup) {
  struct stat st {};
  ASSERT_EQ(::stat(daemon_->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660);
}

TEST_F(DaemonE2E, SecondDaemonOnSameSocketIsRefused) {
  TempDir other;
  auto r = e2e::Run({BerthdBin(), "--root", (other.path() / "root").string(), "--state",
                (other.path() / "state").string(), "--address", daemon_->socket().string()},
               std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("already serving"));
  // The first one is unharmed.
  EXPECT_EQ(daemon_->Ctr({"version"}).exit_code, 0);
}

TEST_F(DaemonE2E, SecondDaemonOnSameRootIsRefused) {
  TempDir other;
  auto r = e2e::Run({BerthdBin(), "--root", daemon_->root().string(), "--state",
                (other.path() / "state").string(), "--address", (other.path() / "s.sock").string()},
               std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("in use by another berthd"));
  EXPECT_FALSE(fs::exists(other.path() / "s.sock"));
}

TEST_F(DaemonE2E, StaleSocketAfterCrashIsReplaced) {
  daemon_->Kill();
  ASSERT_TRUE(fs::exists(daemon_->socket())) << "a killed daemon leaves its socket";
  daemon_->Start();
  EXPECT_EQ(daemon_->Ctr({"version"}).exit_code, 0);
}

TEST_F(DaemonE2E, SigintStopsCleanly) {
  // TearDown checks SIGTERM; here SIGINT.
  daemon_->Kill();
  daemon_->Start();
  // Stop() sends SIGTERM; emulate SIGINT through a raw kill on the pid via pkill -INT -f.
  auto r = e2e::Run({"pkill", "-INT", "-f", "--", "--address " + daemon_->socket().string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // The socket goes before the last log line is written: wait for both.
  EXPECT_TRUE(WaitUntil([&] { return !fs::exists(daemon_->socket()); }));
  EXPECT_TRUE(WaitUntil([&] { return daemon_->Log().find("berthd stopped") != std::string::npos; }))
      << daemon_->Log();
}

TEST(DaemonConfigE2E, ConfigFileAndFlags) {
  TempDir dir;
  fs::path cfg = dir.path() / "config.toml";
  {
    std::ofstream out(cfg);
    out << "root = \"" << (dir.path() / "r").string() << "\"\n"
        << "state = \"" << (dir.path() / "s").string() << "\"\n"
        << "[grpc]\naddress = \"" << (dir.path() / "cfg.sock").string() << "\"\n"
        << "[debug]\nlevel = \"debug\"\n";
  }
  std::vector<std::string> argv = {BerthdBin(), "--config", cfg.string()};
  BackgroundProcess d(argv, dir.path() / "log");
  ASSERT_TRUE(d.WaitForOutput("berthd serving", std::chrono::seconds(30))) << d.Output();
  EXPECT_TRUE(fs::exists(dir.path() / "cfg.sock"));
  EXPECT_TRUE(fs::exists(dir.path() / "r" / "metadata.db"));
  auto r = e2e::Run({CtrBin(), "--address", (dir.path() / "cfg.sock").string(), "version"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(d.Stop(), 0) << d.Output();

  // A typo in the config is an error naming the key, not silently ignored.
  {
    std::ofstream out(cfg);
    out << "[grpc]\nadress = \"/tmp/x.sock\"\n";
  }
  r = e2e::Run({BerthdBin(), "--config", cfg.string()}, std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown key \"adress\""));

  r = e2e::Run({BerthdBin(), "--config", (dir.path() / "missing.toml").string()}, std::chrono::seconds(30));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not found"));
}

}  // namespace
}  // namespace berth::e2e
