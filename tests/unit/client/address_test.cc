#include "client/address.h"

#include <gtest/gtest.h>

namespace berth::client {
namespace {

TEST(AddressTest, SocketPathAcceptsPathsAndUnixUrls) {
  EXPECT_EQ(SocketPath("/run/berth/berth.sock").value(), "/run/berth/berth.sock");
  EXPECT_EQ(SocketPath("unix:///run/berth/berth.sock").value(), "/run/berth/berth.sock");
  EXPECT_EQ(SocketPath("unix:/run/berth/berth.sock").value(), "/run/berth/berth.sock");
  EXPECT_EQ(SocketPath("relative.sock").value(), "relative.sock");
}

TEST(AddressTest, SocketPathRejectsOtherAddresses) {
  EXPECT_TRUE(SocketPath("").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(SocketPath("unix://").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(SocketPath("tcp://127.0.0.1:1234").status().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(SocketPath("/" + std::string(200, 'x')).status().Is(Errc::kInvalidArgument));
}

TEST(AddressTest, ProbeSocketSaysWhy) {
  EXPECT_EQ(ProbeSocket("/nonexistent/berth-test.sock"), "no such file or directory");
}

}  // namespace
}  // namespace berth::client
