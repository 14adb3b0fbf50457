// `berth pull` / `berth push` against Debian's docker-registry on loopback (anonymous and with
// htpasswd basic auth): pull, push under a new name, pull back (same manifest digest), the same
// blobs as the real `ctr pull` stores, an interrupted pull resumed, `berth run` pulling a
// missing image, errors, and the progress display.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Ns(const std::string& what) { return "pp" + std::to_string(::getpid()) + what; }

// Digests `content ls` prints (first column), header skipped.
std::set<std::string> ContentDigests(const std::string& ls) {
  std::set<std::string> out;
  std::istringstream in(ls);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string d;
    if (f >> d && d.rfind("sha256:", 0) == 0) out.insert(d);
  }
  return out;
}

// The target digest of image `name` in `images ls` output ("" if absent).
std::string ImageDigest(const std::string& ls, const std::string& name) {
  std::istringstream in(ls);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::vector<std::string> cols;
    for (std::string c; f >> c;) cols.push_back(c);
    if (cols.size() >= 3 && cols[0] == name) return cols[2];
  }
  return "";
}

class BerthPullPushE2E : public BerthdTest {
 protected:
  void SetUp() override {
    BerthdTest::SetUp();
    layout_ = BuildTestImage(dir_->path() / "layout", {.tag = "v1", .layers = 3});
    ASSERT_FALSE(layout_.empty());
    manifest_ = LayoutManifestDigest(layout_, "v1");
    ASSERT_FALSE(manifest_.empty());
  }
  void TearDown() override {
    for (const auto& ns : namespaces_) RemoveNamespaceCgroups(ns);
    BerthdTest::TearDown();
  }
  CommandResult B(const std::string& ns, std::vector<std::string> args,
                  std::chrono::milliseconds timeout = 120s) {
    namespaces_.insert(ns);
    args.insert(args.begin(), {"--namespace", ns});
    return daemon_->Berth(args, timeout);
  }
  CommandResult C(const std::string& ns, std::vector<std::string> args) {
    namespaces_.insert(ns);
    args.insert(args.begin(), {"--namespace", ns});
    return daemon_->Ctr(args);
  }

  fs::path layout_;
  std::string manifest_;
  std::set<std::string> namespaces_;
};

TEST_F(BerthPullPushE2E, PullPushPullKeepsTheManifestDigestAndMatchesCtr) {
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/busybox:v1", &err)) << err;
  const std::string ref = reg->Ref("pp/busybox:v1");
  const std::string ns = Ns("a");

  auto pull = B(ns, {"pull", "--plain-http", ref});
  ASSERT_EQ(pull.exit_code, 0) << e2e::Describe(pull);
  EXPECT_THAT(pull.out, HasSubstr("pulled " + ref + " (" + manifest_ + ")"));
  EXPECT_THAT(pull.out, HasSubstr("layer-sha256:"));  // plain progress lines (not a terminal)
  EXPECT_THAT(pull.out, Not(HasSubstr("\033[")));
  EXPECT_EQ(ImageDigest(B(ns, {"images", "ls"}).out, ref), manifest_);
  // Unpacked: a container runs from it.
  auto run = B(ns, {"run", "--rm", ref, Ns("r1"), "cat", "/etc/greeting"});
  EXPECT_EQ(run.exit_code, 0) << e2e::Describe(run);
  EXPECT_EQ(run.out, "hello from berth\n");

  // Push under a new name, then pull it back into another namespace: same manifest digest.
  const std::string copy = reg->Ref("pp/copy:v2");
  auto push = B(ns, {"push", "--plain-http", copy, ref});
  ASSERT_EQ(push.exit_code, 0) << e2e::Describe(push);
  EXPECT_THAT(push.out, HasSubstr("pushed " + copy + " (" + manifest_ + ")"));
  // The registry had the blobs under pp/busybox: mounted, not uploaded again.
  EXPECT_THAT(push.out, HasSubstr("mounted"));
  const std::string ns2 = Ns("b");
  auto back = B(ns2, {"pull", "--plain-http", copy});
  ASSERT_EQ(back.exit_code, 0) << e2e::Describe(back);
  EXPECT_EQ(ImageDigest(B(ns2, {"images", "ls"}).out, copy), manifest_);

  // The real ctr pulling the same image into berthd stores exactly the same blobs.
  const std::string ns3 = Ns("c");
  auto ctr = C(ns3, {"images", "pull", "--plain-http", ref});
  ASSERT_EQ(ctr.exit_code, 0) << e2e::Describe(ctr);
  auto ours = ContentDigests(B(ns, {"content", "ls"}).out);
  auto theirs = ContentDigests(C(ns3, {"content", "ls"}).out);
  EXPECT_EQ(ours.size(), 5u);  // manifest, config, 3 layers
  EXPECT_EQ(ours, theirs);
  // And ctr's view of berth's pull is a complete image.
  EXPECT_THAT(C(ns, {"images", "check"}).out, HasSubstr("complete"));

  // Pulling again fetches nothing.
  auto again = B(ns, {"pull", "--plain-http", ref});
  ASSERT_EQ(again.exit_code, 0) << e2e::Describe(again);
  EXPECT_THAT(again.out, HasSubstr("0.0 B fetched"));
}

TEST_F(BerthPullPushE2E, BasicAuthFromTheFlagAndFromDockerConfig) {
  auto reg = TestRegistry::Start(dir_->path() / "registry", TestRegistry::Credentials{"berth", "s3cret"});
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "auth/busybox:v1", &err)) << err;
  const std::string ref = reg->Ref("auth/busybox:v1");
  const std::string ns = Ns("auth");

  auto anonymous = B(ns, {"pull", "--plain-http", ref});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("unauthorized"));
  auto wrong = B(ns, {"pull", "--plain-http", "--user", "berth:wrong", ref});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("unauthorized"));
  EXPECT_THAT(wrong.err + wrong.out, Not(HasSubstr("wrong")));  // no secrets printed
  EXPECT_THAT(B(ns, {"images", "ls", "-q"}).out, Not(HasSubstr(ref)));

  auto pull = B(ns, {"pull", "--plain-http", "--user", "berth:s3cret", ref});
  ASSERT_EQ(pull.exit_code, 0) << e2e::Describe(pull);
  auto push = B(ns, {"push", "--plain-http", "--user", "berth:s3cret", reg->Ref("auth/copy:v1"), ref});
  ASSERT_EQ(push.exit_code, 0) << e2e::Describe(push);

  // Credentials from $DOCKER_CONFIG/config.json.
  fs::path config_dir = dir_->path() / "docker";
  fs::create_directories(config_dir);
  std::ofstream(config_dir / "config.json")
      << R"({"auths":{")" << reg->host() << R"(":{"auth":"YmVydGg6czNjcmV0"}}})";  // berth:s3cret
  const std::string ns2 = Ns("auth2");
  namespaces_.insert(ns2);
  auto r = e2e::Run(daemon_->BerthArgv({"--namespace", ns2, "pull", "--plain-http", reg->Ref("auth/copy:v1")}), 120s,
               {"DOCKER_CONFIG=" + config_dir.string()});
  ASSERT_EQ(r.exit_code, 0) << e2e::Describe(r);
  EXPECT_EQ(ImageDigest(B(ns2, {"images", "ls"}).out, reg->Ref("auth/copy:v1")), manifest_);
}

TEST_F(BerthPullPushE2E, InterruptedPullResumesLargeBlobs) {
  fs::path big = BuildTestImage(dir_->path() / "big", {.tag = "v1", .big_mb = 24, .compression = "none"});
  ASSERT_FALSE(big.empty());
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(big, "v1", "pp/big:v1", &err)) << err;
  // Through a proxy answering at 4 MiB/s, so the pull can be killed half way.
  BackgroundProcess proxy({"python3", (fs::path(BERTH_SOURCE_DIR) / "tests/e2e/throttle_proxy.py").string(),
                           reg->host().substr(reg->host().find(':') + 1), std::to_string(4 << 20)},
                          dir_->path() / "proxy.out");
  ASSERT_TRUE(WaitUntil([&] { return !proxy.Output().empty(); }));
  const std::string slow_ref = "127.0.0.1:" + proxy.Output().substr(0, proxy.Output().find('\n')) + "/pp/big:v1";
  const std::string ns = Ns("resume");
  namespaces_.insert(ns);
  {
    BackgroundProcess pull(daemon_->BerthArgv({"--namespace", ns, "pull", "--plain-http", slow_ref}),
                           dir_->path() / "pull1.out");
    // Wait until the big layer's ingest holds a few MiB, then kill the CLI.
    auto client = client::Client::Connect(daemon_->socket().string(), ns);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    int64_t offset = 0;
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto ingests = (*client)->ListIngestStatuses();
          if (!ingests.ok()) return false;
          for (const auto& st : *ingests) {
            if (st.ref.rfind("layer-", 0) == 0) offset = std::max(offset, st.offset);
          }
          return offset >= (6 << 20);
        },
        30s))
        << pull.Output();
    EXPECT_EQ(pull.Stop() != 0, true);
  }
  // The ingest is still there; the second pull (straight to the registry) resumes it.
  auto active = C(ns, {"content", "active"});
  EXPECT_THAT(active.out, HasSubstr("layer-sha256:"));
  auto again = B(ns, {"pull", "--plain-http", reg->Ref("pp/big:v1")});
  ASSERT_EQ(again.exit_code, 0) << e2e::Describe(again);
  EXPECT_THAT(again.out, HasSubstr("(resuming at "));
  // Fetched less than the big layer's 24 MiB.
  auto pos = again.out.find(" fetched in ");
  ASSERT_NE(pos, std::string::npos) << again.out;
  auto start = again.out.rfind(", ", pos);
  std::string fetched = again.out.substr(start + 2, pos - start - 2);  // "17.9 MiB"
  EXPECT_THAT(fetched, HasSubstr("MiB"));
  EXPECT_LT(std::stod(fetched), 20.0) << again.out;
  EXPECT_THAT(C(ns, {"content", "active"}).out, Not(HasSubstr("layer-sha256:")));
  auto run = B(ns, {"run", "--rm", reg->Ref("pp/big:v1"), Ns("big"), "sh", "-c", "wc -c < /data/big.bin"});
  EXPECT_EQ(run.out, std::to_string(24 << 20) + "\n") << e2e::Describe(run);
}

TEST_F(BerthPullPushE2E, RunPullsAMissingImageAndErrorsAreClear) {
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/run:v1", &err)) << err;
  const std::string ns = Ns("run");
  auto run = B(ns, {"run", "--rm", "--plain-http", reg->Ref("pp/run:v1"), Ns("p1"), "cat", "/hello.txt"});
  ASSERT_EQ(run.exit_code, 0) << e2e::Describe(run);
  EXPECT_EQ(run.out, "hello from berth\n");  // progress went to stderr
  EXPECT_THAT(run.err, HasSubstr("not found; pulling it"));
  EXPECT_THAT(run.err, HasSubstr("pulled " + reg->Ref("pp/run:v1")));

  auto missing = B(ns, {"pull", "--plain-http", reg->Ref("pp/run:nope")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not found"));
  auto bad = B(ns, {"pull", "--plain-http", "127.0.0.1:1/UPPER/case:v1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("invalid"));
  auto refused = B(ns, {"pull", "--plain-http", "127.0.0.1:1/nothing/here:v1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("127.0.0.1:1"));
  auto nothing = B(ns, {"push", "--plain-http", reg->Ref("pp/x:v1"), "no/such:image"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_THAT(nothing.err, HasSubstr("not found"));
}

TEST_F(BerthPullPushE2E, ProgressBarsOnATerminal) {
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/tty:v1", &err)) << err;
  auto pull = B(Ns("tty"), {"pull", "--plain-http", "--progress", "tty", reg->Ref("pp/tty:v1")});
  ASSERT_EQ(pull.exit_code, 0) << e2e::Describe(pull);
  EXPECT_THAT(pull.out, HasSubstr("\033[2K"));  // rows redrawn in place
  EXPECT_THAT(pull.out, HasSubstr("elapsed:"));
  EXPECT_THAT(pull.out, HasSubstr("|++++"));
  auto quiet = B(Ns("tty2"), {"pull", "--plain-http", "--progress", "none", reg->Ref("pp/tty:v1")});
  ASSERT_EQ(quiet.exit_code, 0) << e2e::Describe(quiet);
  EXPECT_EQ(quiet.out, "");
}

}  // namespace
}  // namespace berth::e2e
