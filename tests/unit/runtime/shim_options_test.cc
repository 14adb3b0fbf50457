#include "runtime/shim_options.h"

#include <gtest/gtest.h>

#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace berth::runtime {
namespace {

using RuncOptions = containerd::runc::v1::Options;

template <typename M>
google::protobuf::Any AnyOf(const M& m, const std::string& prefix = "") {
  google::protobuf::Any a;
  a.set_type_url(prefix + M::descriptor()->full_name());
  a.set_value(m.SerializeAsString());
  return a;
}

RuncOptions Defaults(const std::string& root) {
  RuncOptions d;
  d.set_root(root);
  return d;
}

RuncOptions Decode(const std::optional<google::protobuf::Any>& a) {
  RuncOptions o;
  EXPECT_TRUE(a.has_value());
  if (a) {
    EXPECT_TRUE(o.ParseFromString(a->value()));
  }
  return o;
}

TEST(ShimOptionsTest, RuncGetsBerthdsRootUnlessTheClientChoseOne) {
  auto none = ShimOptions(kRuncV2Runtime, std::nullopt, std::nullopt, Defaults("/state/runc"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->type_url(), "containerd.runc.v1.Options");
  EXPECT_EQ(Decode(*none).root(), "/state/runc");

  RuncOptions mine;
  mine.set_root("/mine");
  mine.set_binary_name("crun");
  auto chosen = ShimOptions(kRuncV2Runtime, AnyOf(mine, "types.example/"), std::nullopt, Defaults("/state/runc"));
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ((*chosen)->type_url(), "types.example/containerd.runc.v1.Options");
  EXPECT_EQ(Decode(*chosen).root(), "/mine");
  EXPECT_EQ(Decode(*chosen).binary_name(), "crun");
}

TEST(ShimOptionsTest, TheRequestsOptionsWinOverTheContainers) {
  RuncOptions container, task;
  container.set_binary_name("crun");
  task.set_binary_name("runc");
  auto r = ShimOptions(kRuncV1Runtime, AnyOf(container), AnyOf(task), Defaults("/s"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Decode(*r).binary_name(), "runc");
}

TEST(ShimOptionsTest, OtherShimsGetTheirOptionsUntouched) {
  google::protobuf::Any foreign;
  foreign.set_type_url("example.Options");
  foreign.set_value("\x01\x02");
  auto r = ShimOptions("io.containerd.example.v1", foreign, std::nullopt, Defaults("/s"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->value(), "\x01\x02");
  auto none = ShimOptions("io.containerd.example.v1", std::nullopt, std::nullopt, Defaults("/s"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ShimOptionsTest, LinuxV1OptionsBecomeRuncOptions) {
  containerd::linux::runc::RuncOptions rt;
  rt.set_runtime("/opt/bin/my-runc");
  rt.set_systemd_cgroup(true);
  containerd::linux::runc::CreateOptions create;
  create.set_shim_cgroup("/shims");
  create.set_io_uid(1000);
  create.set_no_pivot_root(true);
  auto r = ShimOptions(kLinuxV1Runtime, AnyOf(rt), AnyOf(create), Defaults("/state/runc"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->type_url(), "containerd.runc.v1.Options");
  RuncOptions o = Decode(*r);
  EXPECT_EQ(o.binary_name(), "/opt/bin/my-runc");
  EXPECT_TRUE(o.systemd_cgroup());
  EXPECT_EQ(o.root(), "/state/runc");
  EXPECT_EQ(o.shim_cgroup(), "/shims");
  EXPECT_EQ(o.io_uid(), 1000u);
  EXPECT_TRUE(o.no_pivot_root());
}

TEST(ShimOptionsTest, TheConfigsDefaultsFillWhatTheClientLeftOut) {
  RuncOptions defaults = Defaults("/state/runc");
  defaults.set_binary_name("crun");
  defaults.set_systemd_cgroup(true);
  RuncOptions client;
  client.set_binary_name("runc");
  auto r = ShimOptions(kRuncV2Runtime, AnyOf(client), std::nullopt, defaults);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Decode(*r).binary_name(), "runc");
  EXPECT_TRUE(Decode(*r).systemd_cgroup());
  EXPECT_EQ(Decode(*r).root(), "/state/runc");
}

TEST(ShimOptionsTest, LinuxV1DefaultsApplyToThatRuntimeOnly) {
  RuncOptions v1;
  v1.set_binary_name("crun");
  ShimDefaults defaults(Defaults("/state/runc"), v1);
  auto legacy = ShimOptions(kLinuxV1Runtime, std::nullopt, std::nullopt, defaults);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(Decode(*legacy).binary_name(), "crun");
  EXPECT_EQ(Decode(*legacy).root(), "/state/runc");
  auto v2 = ShimOptions(kRuncV2Runtime, std::nullopt, std::nullopt, defaults);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(Decode(*v2).binary_name(), "");
}

TEST(ShimOptionsTest, LinuxV1RefusesOptionsOfAnotherType) {
  RuncOptions v2;
  auto r = ShimOptions(kLinuxV1Runtime, AnyOf(v2), std::nullopt, Defaults("/s"));
  EXPECT_TRUE(r.status().Is(Errc::kInvalidArgument)) << r.status().ToString();
  google::protobuf::Any broken;
  broken.set_type_url("containerd.linux.runc.RuncOptions");
  broken.set_value("\xff\xff\xff");
  EXPECT_TRUE(ShimOptions(kLinuxV1Runtime, broken, std::nullopt, Defaults("/s")).status().Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::runtime
