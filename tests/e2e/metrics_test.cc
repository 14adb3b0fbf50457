// containerd's [metrics] address: Prometheus text at /v1/metrics with the gRPC server's
// metrics under containerd's names, scraped over loopback and checked with promtool.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "harness.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class MetricsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    fs::path config = dir_->path() / "config.toml";
    // Port 0: the kernel picks a free one; berthd logs the one it got.
    std::ofstream(config) << "version = 2\n[metrics]\n  address = \"127.0.0.1:0\"\n  grpc_histogram = true\n";
    daemon_ = std::make_unique<Berthd>(dir_->path() / "d", std::vector<std::string>{"--config", config.string()});
    std::smatch m;
    std::string log = daemon_->Log();
    ASSERT_TRUE(std::regex_search(log, m, std::regex("msg=\"serving metrics\".* port=([0-9]+)"))) << log;
    url_ = "http://127.0.0.1:" + m[1].str() + "/v1/metrics";
  }
  void TearDown() override {
    if (daemon_) {
      EXPECT_EQ(daemon_->Stop(), 0);
    }
  }
  CommandResult Scrape() { return e2e::Run({"curl", "-sS", "--noproxy", "*", "-m", "10", "-D", "-", url_}); }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Berthd> daemon_;
  std::string url_;
};

TEST_F(MetricsE2E, GrpcServerMetricsUnderContainerdsNames) {
  ASSERT_EQ(daemon_->Ctr({"version"}).exit_code, 0);
  daemon_->Ctr({"images", "rm", "no/such:image"});  // NotFound (ctr reports it and exits 0)

  auto r = Scrape();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("200 OK"));
  EXPECT_THAT(r.out, HasSubstr("Content-Type: text/plain"));
  EXPECT_THAT(r.out, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Version\","
                               "grpc_service=\"containerd.services.version.v1.Version\",grpc_type=\"unary\"} 1"));
  EXPECT_THAT(r.out, HasSubstr("grpc_server_handled_total{grpc_code=\"NotFound\",grpc_method=\"Delete\","
                               "grpc_service=\"containerd.services.images.v1.Images\",grpc_type=\"unary\"} 1"));
  EXPECT_THAT(r.out, HasSubstr("grpc_server_started_total{grpc_method=\"Version\""));
  EXPECT_THAT(r.out, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Version\""));
  EXPECT_THAT(r.out, HasSubstr("grpc_server_msg_received_total"));

  // What Prometheus' own checker says of the exposition (its lint is about naming style only).
  fs::path body = dir_->path() / "metrics.txt";
  auto plain = e2e::Run({"curl", "-sS", "--noproxy", "*", "-m", "10", "-o", body.string(), url_});
  ASSERT_EQ(plain.exit_code, 0) << Describe(plain);
  if (!fs::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool (Debian's prometheus) not installed";
  auto check = e2e::Run({"sh", "-c", "promtool check metrics < \"$0\"", body.string()});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_THAT(check.out + check.err, ::testing::Not(HasSubstr("error"))) << Describe(check);
}

TEST_F(MetricsE2E, UnknownPathsAre404AndAnInUsePortFailsTheStart) {
  std::string other = url_.substr(0, url_.rfind('/')) + "/nothing";
  auto r = e2e::Run({"curl", "-s", "--noproxy", "*", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", other});
  EXPECT_EQ(r.out, "404") << Describe(r);

  // A second daemon on the same metrics port: a clear error, as containerd gives.
  std::string port = url_.substr(std::string("http://127.0.0.1:").size());
  port = port.substr(0, port.find('/'));
  TempDir second;
  fs::path config = second.path() / "config.toml";
  std::ofstream(config) << "version = 2\n[metrics]\n  address = \"127.0.0.1:" << port << "\"\n";
  auto failed = e2e::Run({BerthdBin(), "--config", config.string(), "--root", (second.path() / "r").string(), "--state",
                     (second.path() / "s").string(), "--address", (second.path() / "b.sock").string()});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_THAT(failed.err, HasSubstr("serve metrics on 127.0.0.1:" + port)) << Describe(failed);
}

}  // namespace
}  // namespace berth::e2e
