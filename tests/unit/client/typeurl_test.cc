#include "client/typeurl.h"

#include <gtest/gtest.h>

#include <google/protobuf/empty.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include "github.com/containerd/containerd/api/events/namespace.pb.h"

namespace berth::client {
namespace {

TEST(TypeurlTest, TypeNameFromUrl) {
  EXPECT_EQ(TypeNameFromUrl("containerd.events.NamespaceCreate"),
            "containerd.events.NamespaceCreate");
  EXPECT_EQ(TypeNameFromUrl("type.googleapis.com/containerd.events.NamespaceCreate"),
            "containerd.events.NamespaceCreate");
  EXPECT_EQ(TypeNameFromUrl(""), "");
}

TEST(TypeurlTest, PackUsesTheBareFullName) {
  containerd::events::NamespaceCreate event;
  event.set_name("n1");
  auto any = PackAny(event);
  EXPECT_EQ(any.type_url(), "containerd.events.NamespaceCreate");
  containerd::events::NamespaceCreate back;
  ASSERT_TRUE(back.ParseFromString(any.value()));
  EXPECT_EQ(back.name(), "n1");
}

TEST(TypeurlTest, FindsEventTypesAndWellKnownTypes) {
  EXPECT_NE(FindMessageType("containerd.events.TaskExit"), nullptr);
  EXPECT_NE(FindMessageType("containerd.events.ContainerCreate"), nullptr);
  EXPECT_NE(FindMessageType("containerd.services.images.v1.ImageCreate"), nullptr);
  EXPECT_NE(FindMessageType("google.protobuf.Empty"), nullptr);
  EXPECT_NE(FindMessageType("type.googleapis.com/google.protobuf.Struct"), nullptr);
  EXPECT_EQ(FindMessageType("no.such.Type"), nullptr);
  EXPECT_EQ(FindMessageType(""), nullptr);
}

TEST(TypeurlTest, AnyToJsonUsesProtoFieldNames) {
  auto any = AnyFromJson("containerd.events.TaskExit",
                         R"({"container_id":"c1","pid":42,"exit_status":3})");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->type_url(), "containerd.events.TaskExit");
  auto json = AnyToJson(*any);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"container_id":"c1","pid":42,"exit_status":3})");
}

TEST(TypeurlTest, AnyToJsonAcceptsPrefixedUrls) {
  containerd::events::NamespaceCreate event;
  event.set_name("n1");
  auto any = PackAny(event);
  any.set_type_url("type.googleapis.com/containerd.events.NamespaceCreate");
  auto json = AnyToJson(any);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"name":"n1"})");
}

TEST(TypeurlTest, DescribeAnyFallsBackToTypeAndSize) {
  google::protobuf::Any any;
  any.set_type_url("example.com/Unknown");
  any.set_value("abc");
  EXPECT_FALSE(AnyToJson(any).ok());
  EXPECT_TRUE(AnyToJson(any).status().Is(Errc::kNotFound));
  EXPECT_EQ(DescribeAny(any), "<example.com/Unknown: 3 bytes>");
  EXPECT_EQ(DescribeAny(google::protobuf::Any()), "");
  EXPECT_EQ(DescribeAny(PackAny(google::protobuf::Empty())), "{}");
}

TEST(TypeurlTest, UndecodableBytesAreInvalid) {
  google::protobuf::Any any;
  any.set_type_url("containerd.events.NamespaceCreate");
  any.set_value("\xff\xff\xff");
  EXPECT_TRUE(AnyToJson(any).status().Is(Errc::kInvalidArgument));
  EXPECT_EQ(DescribeAny(any), "<containerd.events.NamespaceCreate: 3 bytes>");
}

TEST(TypeurlTest, AnyFromJsonErrors) {
  EXPECT_TRUE(AnyFromJson("no.such.Type", "{}").status().Is(Errc::kNotFound));
  EXPECT_TRUE(
      AnyFromJson("containerd.events.NamespaceCreate", R"({"bogus":1})").status().Is(
          Errc::kInvalidArgument));
  EXPECT_TRUE(AnyFromJson("containerd.events.NamespaceCreate", "{").status().Is(
      Errc::kInvalidArgument));
}

TEST(TypeurlTest, WellKnownTypesRoundTrip) {
  auto any = AnyFromJson("google.protobuf.StringValue", R"("hi")");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->type_url(), "google.protobuf.StringValue");
  google::protobuf::StringValue value;
  ASSERT_TRUE(value.ParseFromString(any->value()));
  EXPECT_EQ(value.value(), "hi");
  EXPECT_EQ(DescribeAny(*any), R"("hi")");
}

}  // namespace
}  // namespace berth::client
