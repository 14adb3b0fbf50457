// ToGrpc: errdefs kinds to gRPC codes exactly as containerd maps them.
#include "services/grpc_status.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(GrpcStatusTest, CodesMatchContainerdErrdefs) {
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

TEST(GrpcStatusTest, ServeMapsStatusesAndPassesGrpcStatusesThrough) {
  using services::Reply;
  using services::Serve;
  EXPECT_TRUE(Serve([]() -> Reply { return {}; }).ok());
  grpc::Status st = Serve([]() -> Reply {
    BERTH_RETURN_IF_ERROR(NotFound("image {:?}", "x"));
    return {};
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "image \"x\": not found");
  st = Serve([]() -> Reply { return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "read past the end"); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(st.error_message(), "read past the end");
}

}  // namespace
}  // namespace berth
