#include "oci/hook_template.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

HookContext Sample() {
  HookContext c;
  c.id = "web";
  c.pid = 4242;
  c.bundle = "/run/b/web";
  c.status = "created";
  c.root = "rootfs";
  c.annotations = {{"k", "v"}, {"io.x/y", "z w"}};
  return c;
}

TEST(HookTemplateTest, RendersContainerdsFunctions) {
  auto r = RenderHookTemplate("{{id}} {{pid}} {{rootfs}} {{bundle}} {{status}} {{annotation \"k\"}}", Sample());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "web 4242 /run/b/web/rootfs /run/b/web created v");
}

TEST(HookTemplateTest, SpacesTrimMarkersAndPlainText) {
  EXPECT_EQ(RenderHookTemplate("--pid={{ pid }}", Sample()).value(), "--pid=4242");
  EXPECT_EQ(RenderHookTemplate("a  {{- id -}}  b", Sample()).value(), "awebb");
  EXPECT_EQ(RenderHookTemplate("no templates", Sample()).value(), "no templates");
  EXPECT_EQ(RenderHookTemplate("{{annotation `io.x/y`}}", Sample()).value(), "z w");
  EXPECT_EQ(RenderHookTemplate("[{{annotation \"missing\"}}]", Sample()).value(), "[]");
}

TEST(HookTemplateTest, AbsoluteRootIsKept) {
  HookContext c = Sample();
  c.root = "/srv/root";
  EXPECT_EQ(RenderHookTemplate("{{rootfs}}", c).value(), "/srv/root");
}

TEST(HookTemplateTest, ErrorsNameTheAction) {
  auto unknown = RenderHookTemplate("{{nope}}", Sample());
  EXPECT_TRUE(unknown.status().Is(Errc::kInvalidArgument));
  EXPECT_NE(unknown.status().message().find("nope"), std::string::npos);
  EXPECT_TRUE(RenderHookTemplate("{{id", Sample()).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(RenderHookTemplate("{{annotation k}}", Sample()).status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(RenderHookTemplate("{{pid 3}}", Sample()).status().Is(Errc::kInvalidArgument));
}

TEST(HookTemplateTest, LoadsStateAndTheBundlesRoot) {
  char t[] = "/tmp/berth-hook-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(t);
  std::ofstream(dir / "config.json") << R"({"ociVersion":"1.0.2","root":{"path":"rfs"}})";
  std::string state = R"({"ociVersion":"1.0.2","id":"c1","status":"creating","pid":77,"bundle":")" +
                      dir.string() + R"(","annotations":{"k":"v"}})";
  auto ctx = LoadHookContext(state);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  std::vector<std::string> args = {"/bin/echo", "{{id}}:{{pid}}:{{rootfs}}:{{annotation \"k\"}}"};
  ASSERT_TRUE(RenderHookTemplates(args, *ctx).ok());
  EXPECT_EQ(args[1], "c1:77:" + (dir / "rfs").string() + ":v");
  EXPECT_TRUE(LoadHookContext("not json").status().Is(Errc::kInvalidArgument));
  EXPECT_FALSE(LoadHookContext(R"({"bundle":"/no/such/bundle"})").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::oci
