// The seed's daemon (containerd 0.0.x): its flags (--id --state-dir -l --concurrency
// --metrics-interval --oom-notify --debug), the telemetry dump in the log at the interval, the
// --concurrency bound on task operations (counted in flight by a runc wrapper), and Prometheus:
// a real Prometheus server scraping berthd's [metrics] address and answering queries about the
// container start-time histogram and the container_* cgroup metrics; promtool checks the text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

std::string Id(const std::string& name) { return name + "-" + std::to_string(::getpid()); }

// A free loopback port (bound and released: the kernel will not hand it out again at once).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class TelemetryE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_FALSE(SuiteImage::Ref().empty()); }
  static void TearDownTestSuite() { SuiteImage::Reset(); }
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    image_ = SuiteImage::Ref();
  }
  void TearDown() override {
    for (auto& d : daemons_) {
      auto ids = d->Ctr({"containers", "ls", "-q"}).out;
      std::istringstream in(ids);
      for (std::string id; std::getline(in, id);) {
        if (id.empty()) continue;
        d->Ctr({"task", "kill", "-s", "SIGKILL", id});
        d->Ctr({"task", "delete", "-f", id});
        d->Ctr({"containers", "rm", id});
        ids_.push_back(id);
      }
      EXPECT_EQ(d->Stop(), 0) << d->Log();
      EXPECT_THAT(ProcessesMentioning(d->socket().string()), ::testing::IsEmpty());
    }
    daemons_.clear();
    for (const auto& id : ids_) EXPECT_THAT(ContainerCgroupsLeft("default", id), ::testing::IsEmpty());
    RemoveNamespaceCgroups("default");  // when no other test's containers are in it
  }
  Berthd& StartDaemon(const std::string& name, std::vector<std::string> args) {
    daemons_.push_back(std::make_unique<Berthd>(dir_->path() / name, std::move(args)));
    auto pulled = daemons_.back()->Ctr({"images", "pull", "--plain-http", image_}, std::chrono::seconds(120));
    EXPECT_EQ(pulled.exit_code, 0) << Describe(pulled);
    return *daemons_.back();
  }

  std::unique_ptr<TempDir> dir_;
  std::vector<std::unique_ptr<Berthd>> daemons_;
  std::vector<std::string> ids_;  // containers removed in TearDown
  std::string image_;
};


TEST_F(TelemetryE2E, TheSeedsFlagsAndTheDumpAtTheInterval) {
  fs::path base = dir_->path() / "seed";
  // The harness passes --state/--address; the seed's spellings given after them win.
  Berthd& d = StartDaemon("seed", {"--id", "x", "--state-dir", (base / "state").string(), "-l",
                                   (base / "berth.sock").string(), "--concurrency", "4", "--metrics-interval", "1s",
                                   "--oom-notify", "--debug"});
  std::string log = d.Log();
  EXPECT_THAT(log, HasSubstr("instance=x"));
  EXPECT_THAT(log, HasSubstr("level=debug"));
  auto run = d.Ctr({"run", "--rm", image_, Id("dump"), "true"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  // Within a few intervals: the seed's layout, with the start counted.
  ASSERT_TRUE(WaitUntil([&] { return d.Log().find("  count:               1") != std::string::npos; },
                        std::chrono::seconds(10)))
      << d.Log();
  log = d.Log();
  std::smatch m;
  EXPECT_TRUE(std::regex_search(log, m, std::regex(R"(\[berthd\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d timer container-start-time)")))
      << log;
  for (const char* line : {"   min:   ", "  99.9%:       ", "  1-min rate:  ", "counter containers",
                           "counter events", "counter events-subscribers", "gauge threads", "gauge fds"}) {
    EXPECT_THAT(log, HasSubstr(line));
  }
  // Bad values are clear errors naming the flag, exit 2.
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--concurrency", "lots"},
                                              {"--metrics-interval", "soon"},
                                              {"--concurrency", "-1"},
                                              {"--no-such-flag"}}) {
    std::vector<std::string> argv = {BerthdBin(), "--root", (dir_->path() / "bad" / "r").string(), "--state",
                                     (dir_->path() / "bad" / "s").string()};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto r = e2e::Run(argv);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.out + r.err, HasSubstr(bad[0].substr(2).substr(0, 8))) << Describe(r);
  }
  auto help = e2e::Run({BerthdBin(), "-h"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* part : {"NAME:\n   berthd - ", "USAGE:", "VERSION:", "GLOBAL OPTIONS:", "--state, --state-dir",
                           "--listen", "-l", "--concurrency", "--metrics-interval", "--oom-notify", "--id"}) {
    EXPECT_THAT(help.out, HasSubstr(part));
  }
  EXPECT_EQ(e2e::Run({BerthdBin(), "-v"}).exit_code, 0);
}

TEST_F(TelemetryE2E, ConcurrencyBoundsTaskOperationsInFlight) {
  // A runc that counts how many `create`s run at once (and holds each for 300 ms).
  fs::path counter = dir_->path() / "counter";
  fs::create_directories(counter);
  fs::path wrapper = dir_->path() / "counting-runc";
  {
    std::ofstream w(wrapper);
    w << "#!/bin/sh\n"
      << "d=" << counter.string() << "\n"
      << "case \" $* \" in *\" create \"*)\n"
      << "  ( flock 9; n=$(( $(cat $d/cur 2>/dev/null || echo 0) + 1 )); echo $n > $d/cur;\n"
      << "    m=$(cat $d/max 2>/dev/null || echo 0); [ $n -gt $m ] && echo $n > $d/max ) 9>$d/lock\n"
      << "  sleep 0.3\n"
      << "  ( flock 9; echo $(( $(cat $d/cur) - 1 )) > $d/cur ) 9>$d/lock ;;\n"
      << "esac\n"
      << "exec runc \"$@\"\n";
  }
  fs::permissions(wrapper, fs::perms::owner_all);
  auto most_in_flight = [&](Berthd& d, const std::string& tag) {
    fs::remove(counter / "max");
    std::vector<std::thread> runs;
    std::vector<int> codes(6, -1);
    for (int i = 0; i < 6; ++i) {
      runs.emplace_back([&, i] {
        codes[static_cast<size_t>(i)] = d.Ctr({"run", "-d", "--runc-binary", wrapper.string(), image_,
                                               Id(tag + std::to_string(i)), "sleep", "1000"})
                                            .exit_code;
      });
    }
    for (auto& t : runs) t.join();
    for (int c : codes) EXPECT_EQ(c, 0);
    return std::stoi(ReadFile(counter / "max"));
  };
  Berthd& bounded = StartDaemon("bounded", {"--concurrency", "2"});
  int bounded_max = most_in_flight(bounded, "b");
  EXPECT_LE(bounded_max, 2);
  EXPECT_GE(bounded_max, 1);
  Berthd& unbounded = StartDaemon("unbounded", {"--concurrency", "0"});
  int unbounded_max = most_in_flight(unbounded, "u");
  EXPECT_GT(unbounded_max, 2) << "without a bound the six creates overlap";
}

TEST_F(TelemetryE2E, PrometheusScrapesTheStartTimeHistogramAndCgroupMetrics) {
  if (!fs::exists("/usr/bin/prometheus")) GTEST_SKIP() << "prometheus (Debian's) not installed";
  Berthd& d = StartDaemon("prom", {"--config", [&] {
                                     fs::path c = dir_->path() / "berthd.toml";
                                     std::ofstream(c) << "version = 2\n[metrics]\n  address = \"127.0.0.1:0\"\n";
                                     return c.string();
                                   }()});
  std::smatch m;
  std::string log = d.Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("msg=\"serving metrics\".* port=([0-9]+)"))) << log;
  const std::string target = "127.0.0.1:" + m[1].str();
  auto run = d.Ctr({"run", "-d", image_, Id("prom"), "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);

  // promtool on the whole exposition, with a task's cgroup metrics in it.
  fs::path text = dir_->path() / "metrics.txt";
  auto scraped = e2e::Run({"curl", "-sS", "--noproxy", "*", "-m", "10", "-o", text.string(), "http://" + target + "/v1/metrics"});
  ASSERT_EQ(scraped.exit_code, 0) << Describe(scraped);
  std::string body = ReadFile(text);
  EXPECT_THAT(body, HasSubstr("berth_container_start_duration_seconds_bucket{namespace=\"default\""));
  EXPECT_THAT(body, HasSubstr("container_pids_current{container_id=\"" + Id("prom") + "\",namespace=\"default\"}"));
  EXPECT_THAT(body, HasSubstr("container_memory_usage_usage_bytes{container_id=\"" + Id("prom")));
  EXPECT_THAT(body, HasSubstr("container_cpu_total_seconds{container_id=\"" + Id("prom")));
  EXPECT_THAT(body, HasSubstr("container_memory_oom_total{container_id=\"" + Id("prom")));
  EXPECT_THAT(body, HasSubstr("berth_tasks{namespace=\"default\"} 1"));
  EXPECT_THAT(body, HasSubstr("berth_images{namespace=\"default\"} 1"));
  auto check = e2e::Run({"sh", "-c", "promtool check metrics < \"$0\"", text.string()});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  // berth metrics: the same figures as tables.
  auto shown = d.Berth({"metrics", target});
  EXPECT_EQ(shown.exit_code, 0) << Describe(shown);
  EXPECT_THAT(shown.out, ::testing::ContainsRegex("berth_container_start_duration_seconds +namespace=\"default\" +1 "));
  EXPECT_THAT(shown.out, ::testing::ContainsRegex("berth_tasks +namespace=\"default\" +1"));
  auto refused = d.Berth({"metrics", "127.0.0.1:1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("[metrics] address"));

  // A real Prometheus, on loopback and temp dirs, scraping every second.
  const int port = FreePort();
  fs::path cfg = dir_->path() / "prometheus.yml";
  std::ofstream(cfg) << "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: berthd\n"
                     << "    metrics_path: /v1/metrics\n    static_configs:\n      - targets: ['" << target << "']\n";
  BackgroundProcess prom({"prometheus", "--config.file=" + cfg.string(),
                          "--storage.tsdb.path=" + (dir_->path() / "tsdb").string(),
                          "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                         dir_->path() / "prometheus.log");
  auto query = [&](const std::string& q) {
    auto r = e2e::Run({"curl", "-sS", "--noproxy", "*", "-m", "5", "--data-urlencode", "query=" + q,
                       "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query"});
    return json::parse(r.out, nullptr, false);
  };
  auto value_of = [&](const std::string& q) -> double {
    json j = query(q);
    if (!j.is_object() || j["status"] != "success" || j["data"]["result"].empty()) return -1;
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  };
  ASSERT_TRUE(WaitUntil([&] { return value_of("sum(berth_container_start_duration_seconds_count)") >= 1; },
                        std::chrono::seconds(60)))
      << prom.Output();
  EXPECT_GT(value_of("histogram_quantile(0.5, sum(rate(berth_container_start_duration_seconds_bucket[1m])) by (le))"),
            -2);  // a number (NaN is fine without new starts)
  EXPECT_GE(value_of("container_pids_current{container_id=\"" + Id("prom") + "\"}"), 1);
  EXPECT_GE(value_of("up{job=\"berthd\"}"), 1);
  EXPECT_GE(value_of("grpc_server_handled_total{grpc_method=\"Create\",grpc_service=\"containerd.services.tasks.v1.Tasks\"}"),
            1);
  prom.Stop();
}

}  // namespace
}  // namespace berth::e2e
