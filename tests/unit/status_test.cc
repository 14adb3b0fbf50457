#include "common/status.h"

#include <gtest/gtest.h>

#include "services/grpc_status.h"

namespace berth {
namespace {

TEST(StatusTest, ToStringAppendsTheKindLikeContainerd) {
  EXPECT_EQ(NotFound("namespace {:?}", "n1").ToString(), "namespace \"n1\": not found");
  EXPECT_EQ(AlreadyExists("x").ToString(), "x: already exists");
  EXPECT_EQ(FailedPrecondition("y").ToString(), "y: failed precondition");
  EXPECT_EQ(Unknown("plain").ToString(), "plain");
  EXPECT_EQ(Status(Errc::kNotFound, "").ToString(), "not found");
}

TEST(StatusTest, WrapKeepsTheCode) {
  Status st = NotFound("blob").Wrap("read");
  EXPECT_TRUE(st.Is(Errc::kNotFound));
  EXPECT_EQ(st.ToString(), "read: blob: not found");
  EXPECT_TRUE(Status::Ok().Wrap("ctx").ok());
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("{} is odd", x);
  return x / 2;
}

Result<int> Quarter(int x) {
  BERTH_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultCarriesValueOrStatus) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "3 is odd: invalid argument");
}

TEST(StatusTest, GrpcCodesMatchContainerdErrdefs) {
  using services::ToGrpc;
  EXPECT_EQ(ToGrpc(NotFound("a")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpc(AlreadyExists("a")).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(ToGrpc(InvalidArgument("a")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpc(FailedPrecondition("a")).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpc(Unavailable("a")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpc(NotImplemented("a")).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToGrpc(Unknown("a")).error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(ToGrpc(Status(Errc::kCanceled, "a")).error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ToGrpc(Status(Errc::kDeadlineExceeded, "a")).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ToGrpc(NotFound("namespace {:?}", "n")).error_message(), "namespace \"n\": not found");
  EXPECT_TRUE(ToGrpc(Status::Ok()).ok());
}

}  // namespace
}  // namespace berth
