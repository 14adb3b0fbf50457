#include "client/grpc_errors.h"

#include <gtest/gtest.h>

namespace berth::client {
namespace {

TEST(GrpcErrorsTest, MapsCodesToContainerdKinds) {
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::OK), Errc::kOk);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::NOT_FOUND), Errc::kNotFound);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::ALREADY_EXISTS), Errc::kAlreadyExists);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::INVALID_ARGUMENT), Errc::kInvalidArgument);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::FAILED_PRECONDITION), Errc::kFailedPrecondition);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::UNAVAILABLE), Errc::kUnavailable);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::UNIMPLEMENTED), Errc::kNotImplemented);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::CANCELLED), Errc::kCanceled);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::DEADLINE_EXCEEDED), Errc::kDeadlineExceeded);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::PERMISSION_DENIED), Errc::kUnknown);
  EXPECT_EQ(ErrcFromGrpcCode(grpc::StatusCode::INTERNAL), Errc::kUnknown);
}

TEST(GrpcErrorsTest, StripsTheKindSuffixSoToStringDoesNotRepeatIt) {
  Status st = FromGrpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "namespace \"x\": not found"));
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  EXPECT_EQ(st.message(), "namespace \"x\"");
  EXPECT_EQ(st.ToString(), "namespace \"x\": not found");
}

TEST(GrpcErrorsTest, KeepsMessagesWithoutTheSuffix) {
  Status st = FromGrpc(grpc::StatusCode::ALREADY_EXISTS, "namespace \"x\"");
  EXPECT_EQ(st.ToString(), "namespace \"x\": already exists");
  // Only a whole ": kind" suffix is stripped.
  st = FromGrpc(grpc::StatusCode::NOT_FOUND, "thing was not found");
  EXPECT_EQ(st.message(), "thing was not found");
}

TEST(GrpcErrorsTest, MessageThatIsOnlyTheKind) {
  Status st = FromGrpc(grpc::StatusCode::INVALID_ARGUMENT, "invalid argument");
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.ToString(), "invalid argument");
}

TEST(GrpcErrorsTest, DropsGrpcStockTextsForDeadlineAndCancel) {
  EXPECT_EQ(FromGrpc(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded").ToString(),
            "context deadline exceeded");
  EXPECT_EQ(FromGrpc(grpc::StatusCode::CANCELLED, "Cancelled").ToString(), "context canceled");
}

TEST(GrpcErrorsTest, UnknownKeepsTheMessage) {
  Status st = FromGrpc(grpc::StatusCode::INTERNAL, "disk on fire");
  EXPECT_TRUE(st.Is(Errc::kUnknown));
  EXPECT_EQ(st.ToString(), "disk on fire");
  EXPECT_EQ(FromGrpc(grpc::StatusCode::UNKNOWN, "").ToString(), "unknown");
}

TEST(GrpcErrorsTest, OkIsOk) { EXPECT_TRUE(FromGrpc(grpc::Status::OK).ok()); }

}  // namespace
}  // namespace berth::client
