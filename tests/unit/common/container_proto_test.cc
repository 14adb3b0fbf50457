// Container <-> containerd.services.containers.v1.Container: every field but the timestamps.
#include <gtest/gtest.h>

#include <chrono>

#include "common/container_proto.h"

namespace berth {
namespace {

TEST(ContainerProtoTest, RoundTripsEveryFieldButTheTimestamps) {
  Container c;
  c.id = "web";
  c.labels = {{"a", "1"}, {"b", "2"}};
  c.image = "docker.io/library/busybox:latest";
  c.runtime.name = "io.containerd.runc.v2";
  google::protobuf::Any options;
  options.set_type_url("containerd.runc.v1.Options");
  options.set_value("opts");
  c.runtime.options = options;
  google::protobuf::Any spec;
  spec.set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Spec");
  spec.set_value("{}");
  c.spec = spec;
  c.snapshotter = "overlayfs";
  c.snapshot_key = "web";
  google::protobuf::Any ext;
  ext.set_type_url("x");
  c.extensions["ext"] = ext;
  c.created_at = TimePoint(std::chrono::seconds(1));

  containerd::services::containers::v1::Container message;
  ContainerToProto(c, &message);
  EXPECT_FALSE(message.has_created_at());
  EXPECT_FALSE(message.has_updated_at());

  Container back = ContainerFromProto(message);
  EXPECT_EQ(back.id, c.id);
  EXPECT_EQ(back.labels, c.labels);
  EXPECT_EQ(back.image, c.image);
  EXPECT_EQ(back.runtime.name, c.runtime.name);
  ASSERT_TRUE(back.runtime.options.has_value());
  EXPECT_EQ(back.runtime.options->value(), "opts");
  ASSERT_TRUE(back.spec.has_value());
  EXPECT_EQ(back.spec->type_url(), spec.type_url());
  EXPECT_EQ(back.snapshotter, c.snapshotter);
  EXPECT_EQ(back.snapshot_key, c.snapshot_key);
  ASSERT_EQ(back.extensions.count("ext"), 1u);
  EXPECT_EQ(back.extensions.at("ext").type_url(), "x");
  EXPECT_EQ(back.created_at, TimePoint{});
}

TEST(ContainerProtoTest, AbsentOptionsAndSpecStayAbsent) {
  containerd::services::containers::v1::Container message;
  message.set_id("bare");
  Container back = ContainerFromProto(message);
  EXPECT_EQ(back.id, "bare");
  EXPECT_FALSE(back.runtime.options.has_value());
  EXPECT_FALSE(back.spec.has_value());
}

}  // namespace
}  // namespace berth
