#include "metrics/endpoint.h"
#include "metrics/grpc_server_metrics.h"

#include <gtest/gtest.h>

namespace berth::metrics {
namespace {

TEST(EndpointTest, AddressMustBeHostColonPort) {
  auto registry = std::make_shared<prometheus::Registry>();
  for (const char* bad : {"", "/run/metrics.sock", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http"}) {
    auto e = Endpoint::Start(bad, {registry});
    EXPECT_TRUE(e.status().Is(Errc::kInvalidArgument)) << bad << ": " << e.status().ToString();
  }
}

TEST(EndpointTest, PortZeroPicksAFreePort) {
  auto e = Endpoint::Start("127.0.0.1:0", {std::make_shared<prometheus::Registry>()});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_GT((*e)->port(), 0);
}

TEST(EndpointTest, GrpcCodesAreGosNames) {
  EXPECT_STREQ(GrpcCodeName(0), "OK");
  EXPECT_STREQ(GrpcCodeName(5), "NotFound");
  EXPECT_STREQ(GrpcCodeName(9), "FailedPrecondition");
  EXPECT_STREQ(GrpcCodeName(16), "Unauthenticated");
  EXPECT_STREQ(GrpcCodeName(99), "Unknown");
}

}  // namespace
}  // namespace berth::metrics
