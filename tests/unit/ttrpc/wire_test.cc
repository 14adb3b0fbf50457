#include "ttrpc/wire.h"

#include <gtest/gtest.h>

#include <string>

#include "google/rpc/status.pb.h"

namespace berth::ttrpc {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(WireTest, HeaderRoundTripIsBigEndian) {
  uint8_t buf[kHeaderLength];
  EncodeHeader(FrameHeader{.length = 0x01020304, .stream_id = 0x0a0b0c0d, .type = 2, .flags = 0x7f}, buf);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), kHeaderLength),
            Bytes({1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 0x7f}));
  FrameHeader h = DecodeHeader(buf);
  EXPECT_EQ(h.length, 0x01020304u);
  EXPECT_EQ(h.stream_id, 0x0a0b0c0du);
  EXPECT_EQ(h.type, 2);
  EXPECT_EQ(h.flags, 0x7f);
}

TEST(WireTest, RequestEncodesAsTtrpcTypes) {
  // Request{service:"s", method:"m", payload:"p", timeout_nano:5, metadata:[{k,v}]}, field by field.
  Request r{.service = "s", .method = "m", .payload = "p", .timeout_nano = 5, .metadata = {{"k", "v"}}};
  EXPECT_EQ(EncodeRequest(r), Bytes({0x0a, 1, 's', 0x12, 1, 'm', 0x1a, 1, 'p', 0x20, 5,
                                     0x2a, 6, 0x0a, 1, 'k', 0x12, 1, 'v'}));
  // Empty fields are left out, as proto3 does.
  EXPECT_EQ(EncodeRequest(Request{}), "");
}

TEST(WireTest, RequestRoundTrip) {
  Request r{.service = "containerd.task.v2.Task",
            .method = "Create",
            .payload = std::string("\0\1\2 binary", 10),
            .timeout_nano = -42,
            .metadata = {{kNamespaceKey, "default"}, {"k", "a"}, {"k", "b"}}};
  auto back = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->service, r.service);
  EXPECT_EQ(back->method, r.method);
  EXPECT_EQ(back->payload, r.payload);
  EXPECT_EQ(back->timeout_nano, -42);
  EXPECT_EQ(back->metadata, r.metadata);
}

TEST(WireTest, UnknownFieldsAreSkipped) {
  std::string bytes = EncodeRequest(Request{.service = "s", .method = "m"});
  bytes += Bytes({0x48, 0x96, 0x01});                    // field 9 varint 150
  bytes += Bytes({0x51, 1, 2, 3, 4, 5, 6, 7, 8});        // field 10 fixed64
  bytes += Bytes({0x5a, 3, 'x', 'y', 'z'});              // field 11 bytes
  bytes += Bytes({0x2a, 5, 0x0a, 1, 'k', 0x18, 1});      // metadata with an unknown field 3
  auto r = DecodeRequest(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->service, "s");
  EXPECT_EQ(r->method, "m");
  ASSERT_EQ(r->metadata.size(), 1u);
  EXPECT_EQ(r->metadata.begin()->first, "k");
  EXPECT_EQ(r->metadata.begin()->second, "");
}

TEST(WireTest, MalformedRequestsAreRejected) {
  const std::string cases[] = {
      Bytes({0x0a, 5, 'a'}),          // truncated string
      Bytes({0x08, 1}),               // service sent as a varint
      Bytes({0x20}),                  // truncated varint field
      Bytes({0x2a, 3, 0x0a, 5, 'k'}), // metadata entry longer than its message
      Bytes({0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}),  // absurd length
      Bytes({0x07}),                  // wire type 7 does not exist
      Bytes({0x00, 0x00}),            // field number 0
  };
  for (const auto& c : cases) {
    auto r = DecodeRequest(c);
    EXPECT_FALSE(r.ok()) << "accepted " << ::testing::PrintToString(c);
    EXPECT_EQ(r.status().code(), Errc::kInvalidArgument);
  }
  EXPECT_FALSE(DecodeResponse(Bytes({0x12, 9, 'x'})).ok());
  EXPECT_FALSE(DecodeResponse(Bytes({0x0a, 2, 0x08})).ok());  // status itself truncated
}

TEST(WireTest, ResponseRoundTrip) {
  auto ok = DecodeResponse(EncodeResponse(Response{.status = Status::Ok(), .payload = "data"}));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->status.ok());
  EXPECT_EQ(ok->payload, "data");

  auto err = DecodeResponse(EncodeResponse(Response{.status = NotFound("container \"c1\""), .payload = {}}));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->status.code(), Errc::kNotFound);
  EXPECT_EQ(err->status.message(), "container \"c1\"");
}

TEST(WireTest, RpcStatusCarriesGrpcCodesAndContainerdText) {
  google::rpc::Status st;
  ToRpcStatus(NotFound("container \"c1\""), &st);
  EXPECT_EQ(st.code(), 5);
  EXPECT_EQ(st.message(), "container \"c1\": not found");
  ToRpcStatus(Status(Errc::kNotImplemented, "method X"), &st);
  EXPECT_EQ(st.code(), 12);
  ToRpcStatus(Status(Errc::kResourceExhausted, "too big"), &st);
  EXPECT_EQ(st.code(), 8);
  EXPECT_EQ(st.message(), "too big");
  ToRpcStatus(Status::Ok(), &st);
  EXPECT_EQ(st.code(), 0);

  // What the Go shim sends for an unknown container (errdefs.ToGRPCf(ErrNotFound, ...)).
  st.set_code(5);
  st.set_message("container not created: not found");
  Status s = FromRpcStatus(st);
  EXPECT_EQ(s.code(), Errc::kNotFound);
  EXPECT_EQ(s.message(), "container not created");
  EXPECT_EQ(s.ToString(), "container not created: not found");

  // A kind's bare text, gRPC's own texts, and a code berth has no kind for.
  st.set_code(14);
  st.set_message("unavailable");
  EXPECT_EQ(FromRpcStatus(st).message(), "");
  st.set_code(4);
  st.set_message("Deadline Exceeded");
  EXPECT_EQ(FromRpcStatus(st).code(), Errc::kDeadlineExceeded);
  EXPECT_EQ(FromRpcStatus(st).message(), "");
  st.set_code(7);  // PermissionDenied
  st.set_message("no");
  EXPECT_EQ(FromRpcStatus(st).code(), Errc::kUnknown);
  EXPECT_EQ(FromRpcStatus(st).message(), "no");
}

}  // namespace
}  // namespace berth::ttrpc
