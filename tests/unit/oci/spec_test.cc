// The default spec against what containerd's own `ctr oci spec` prints, and the options
// applied as ctr's `run` applies them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "oci/generate.h"
#include "oci/spec.h"

namespace berth::oci {
namespace {

using ::testing::ElementsAre;

// stdout of a shell command; nullopt when it fails.
std::optional<std::string> Capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return ::pclose(p) == 0 ? std::optional(out) : std::nullopt;
}

TEST(SpecDefault, EqualsCtrOciSpec) {
  if (!std::filesystem::exists("/usr/bin/ctr")) GTEST_SKIP() << "containerd's ctr is not installed";
  // `ctr oci spec` needs no daemon: it prints populateDefaultUnixSpec for namespace "default"
  // and an empty id.
  auto out = Capture("/usr/bin/ctr --namespace default oci spec 2>/dev/null");
  ASSERT_TRUE(out.has_value());
  auto expected = nlohmann::json::parse(*out);
  nlohmann::json ours = nlohmann::json::parse(ToJson(DefaultUnixSpec("default", "")).dump());
  EXPECT_EQ(ours, expected) << "ours:\n" << ours.dump(2) << "\nctr:\n" << expected.dump(2);
  // Same key order too (Go's struct order): byte for byte, modulo the trailing newline.
  EXPECT_EQ(ToJson(DefaultUnixSpec("default", "")).dump(4) + "\n", *out);
}

TEST(SpecDefault, CgroupsPathIsNamespaceAndId) {
  EXPECT_EQ(DefaultUnixSpec("ns1", "c1").linux.cgroups_path, "/ns1/c1");
  EXPECT_EQ(DefaultUnixSpec("default", "").linux.cgroups_path, "/default");
}

TEST(SpecGenerate, ImageConfigGivesArgsEnvCwd) {
  SpecOptions o;
  o.namespace_name = "default";
  o.id = "t1";
  o.image = ImageConfig{};
  o.image->entrypoint = {"/bin/sh", "-c"};
  o.image->cmd = {"echo hi"};
  o.image->env = {"PATH=/bin", "A=1"};
  o.image->working_dir = "/work";
  o.env = {"A=2", "B=3"};
  auto s = GenerateSpec(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(s->process.args, ElementsAre("/bin/sh", "-c", "echo hi"));
  EXPECT_THAT(s->process.env, ElementsAre("PATH=/bin", "A=2", "B=3"));
  EXPECT_EQ(s->process.cwd, "/work");
  EXPECT_EQ(s->linux.cgroups_path, "/default/t1");
  EXPECT_THAT(s->process.user.additional_gids, ElementsAre(0u));
  EXPECT_EQ(s->linux.resources->cpu_shares, kDefaultCpuShares);
  EXPECT_EQ(s->linux.resources->devices.size(), 10u);  // deny all + 9 defaults
}

TEST(SpecGenerate, ArgsReplaceEntrypointAndCmdAndTtyAddsTerm) {
  SpecOptions o;
  o.namespace_name = "default";
  o.id = "t1";
  o.image = ImageConfig{};
  o.image->entrypoint = {"/entry"};
  o.image->cmd = {"x"};
  o.args = {"echo", "hello"};
  o.terminal = true;
  o.cwd = "/tmp";
  o.memory_limit = 1 << 20;
  o.annotations = {{"k", "v"}};
  auto s = GenerateSpec(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(s->process.args, ElementsAre("echo", "hello"));
  EXPECT_THAT(s->process.env, ElementsAre(kDefaultPathEnv, "TERM=xterm"));
  EXPECT_TRUE(s->process.terminal);
  EXPECT_EQ(s->process.cwd, "/tmp");
  auto json = ToJson(*s);
  EXPECT_EQ(json["linux"]["resources"]["memory"]["limit"], 1 << 20);
  EXPECT_EQ(json["annotations"]["k"], "v");
  EXPECT_EQ(json["process"]["terminal"], true);
}

TEST(SpecGenerate, NumericUserWithoutRootfs) {
  SpecOptions o;
  o.args = {"id"};
  o.user = "1000:1000";
  auto s = GenerateSpec(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->process.user.uid, 1000u);
  EXPECT_EQ(s->process.user.gid, 1000u);
  EXPECT_THAT(s->process.user.additional_gids, ElementsAre(1000u));
  o.user = "nobody";
  EXPECT_TRUE(GenerateSpec(o).status().Is(Errc::kInvalidArgument));
  o.user = "1:2:3";
  EXPECT_TRUE(GenerateSpec(o).status().Is(Errc::kInvalidArgument));
}

TEST(SpecGenerate, NoCommandIsAnError) {
  SpecOptions o;
  o.image = ImageConfig{};
  EXPECT_TRUE(GenerateSpec(o).status().Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::oci
