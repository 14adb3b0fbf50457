// `berth pull` / `berth push` against Debian's docker-registry on loopback (anonymous and with
// htpasswd basic auth): pull, push under a new name, pull back (same manifest digest), the same
// blobs as the real `ctr pull` stores, an interrupted pull resumed, `berth run` pulling a
// missing image, errors, and the progress display; two platforms of one index pulled one after
// the other both kept by garbage collection; pulls meeting another writer of the same blob.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "client/content_stream.h"
#include "client/transfer.h"
#include "harness.h"
#include "images/walk.h"
#include "remotes/registry.h"
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

  // Runs a garbage collection now: a lease created and removed with --sync.
  void CollectGarbage(const std::string& ns) {
    auto created = B(ns, {"leases", "create", "--id", "gc-now"});
    ASSERT_EQ(created.exit_code, 0) << e2e::Describe(created);
    auto removed = B(ns, {"leases", "rm", "--sync", "gc-now"});
    ASSERT_EQ(removed.exit_code, 0) << e2e::Describe(removed);
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

TEST_F(BerthPullPushE2E, TwoPlatformsOfAnIndexPulledInTurnAreBothKept) {
  // An index of two manifests: the test image as this host's platform, a second image (other
  // greeting, so other layers) as another platform.
  fs::path other = BuildTestImage(dir_->path() / "other", {.tag = "v1", .layers = 2, .greeting = "second"});
  ASSERT_FALSE(other.empty());
  const std::string other_manifest = LayoutManifestDigest(other, "v1");
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/multi:a", &err)) << err;
  ASSERT_TRUE(reg->Push(other, "v1", "pp/multi:b", &err)) << err;
  const images::Platform host = images::HostPlatform();
  const std::string arch_a = host.architecture;
  const std::string arch_b = arch_a == "amd64" ? "arm64" : "amd64";
  auto entry = [](const std::string& digest, const fs::path& layout, const std::string& arch) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
           R"(","size":)" + std::to_string(fs::file_size(LayoutBlobPath(layout, digest))) +
           R"(,"platform":{"architecture":")" + arch + R"(","os":"linux"}})";
  };
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      entry(manifest_, layout_, arch_a) + "," + entry(other_manifest, other, arch_b) + "]}";
  {
    auto registry = remotes::Registry::Open(reg->host(), {.plain_http = true});
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    auto pushed = (*registry)->PushManifest("pp/multi", "v1", "application/vnd.oci.image.index.v1+json", index);
    ASSERT_TRUE(pushed.ok()) << pushed.ToString();
  }
  const std::string ref = reg->Ref("pp/multi:v1");
  const std::string ns = Ns("multi");
  auto a = B(ns, {"pull", "--plain-http", "--platform", "linux/" + arch_a, ref});
  ASSERT_EQ(a.exit_code, 0) << e2e::Describe(a);
  auto b = B(ns, {"pull", "--plain-http", "--no-unpack", "--platform", "linux/" + arch_b, ref});
  ASSERT_EQ(b.exit_code, 0) << e2e::Describe(b);
  CollectGarbage(ns);

  // The index names both manifests for the collector, so both platforms' blobs stay.
  auto held = ContentDigests(B(ns, {"content", "ls"}).out);
  EXPECT_TRUE(held.contains(manifest_)) << "first platform's manifest collected";
  EXPECT_TRUE(held.contains(other_manifest)) << "second platform's manifest collected";
  for (const auto& layout : {layout_, other}) {
    for (const auto& [media_type, digest] : LayoutLayers(layout, "v1")) {
      EXPECT_TRUE(held.contains(digest)) << digest << " of " << layout << " collected";
    }
  }
  auto client = client::Client::Connect(daemon_->socket().string(), ns);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->GetContentInfo(ImageDigest(B(ns, {"images", "ls"}).out, ref));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->labels["containerd.io/gc.ref.content.m.0"], manifest_);
  EXPECT_EQ(info->labels["containerd.io/gc.ref.content.m.1"], other_manifest);
  // And the first platform still runs.
  auto run = B(ns, {"run", "--rm", ref, Ns("m1"), "cat", "/etc/greeting"});
  EXPECT_EQ(run.out, "hello from berth\n") << e2e::Describe(run);
}

TEST_F(BerthPullPushE2E, APullWaitsForAnotherWriterOfTheSameBlobAndLabelsIt) {
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/lock:v1", &err)) << err;
  const std::string ns = Ns("lock");
  namespaces_.insert(ns);
  auto client = client::Client::Connect(daemon_->socket().string(), ns);
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  // This test holds the ingest of one layer, as another pull would, with all its bytes.
  const auto [media_type, layer] = LayoutLayers(layout_, "v1").back();
  const std::string bytes = ReadFile(LayoutBlobPath(layout_, layer));
  const std::string ingest = client::IngestRef(media_type, layer);
  auto writer = client::ContentWriter::Open(**client, {ingest, layer, static_cast<int64_t>(bytes.size())});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Write(bytes).ok());

  CommandResult pull;
  std::thread puller(
      [&] { pull = daemon_->Berth({"--namespace", ns, "pull", "--plain-http", reg->Ref("pp/lock:v1")}, 120s); });
  // The pull met the lock (the daemon logs the refused write) and waits...
  bool met = WaitUntil([&] { return Count(daemon_->Log(), "locked for") > 0; }, 60s);
  EXPECT_TRUE(met) << daemon_->Log();
  std::this_thread::sleep_for(300ms);
  // ... until the other writer commits (without labels); then it finds the blob there.
  auto committed = (*writer)->Commit();
  EXPECT_TRUE(committed.ok()) << committed.status().ToString();
  writer->reset();
  puller.join();
  ASSERT_EQ(pull.exit_code, 0) << e2e::Describe(pull);
  auto info = (*client)->GetContentInfo(layer);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  // Labelled as pulled from this repository all the same.
  EXPECT_EQ(info->labels["containerd.io/distribution.source." + reg->host()], "pp/lock");
  EXPECT_THAT(C(ns, {"images", "check"}).out, HasSubstr("complete"));
}

TEST_F(BerthPullPushE2E, TwoPullsOfOneImageAtOnceBothSucceed) {
  auto reg = TestRegistry::Start(dir_->path() / "registry");
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout_, "v1", "pp/twice:v1", &err)) << err;
  const std::string ns = Ns("twice");
  namespaces_.insert(ns);
  const std::string ref = reg->Ref("pp/twice:v1");
  CommandResult first, second;
  const std::vector<std::string> args{"--namespace", ns, "pull", "--plain-http", ref};
  std::thread t1([&] { first = daemon_->Berth(args, 120s); });
  std::thread t2([&] { second = daemon_->Berth(args, 120s); });
  t1.join();
  t2.join();
  EXPECT_EQ(first.exit_code, 0) << e2e::Describe(first);
  EXPECT_EQ(second.exit_code, 0) << e2e::Describe(second);
  EXPECT_EQ(ImageDigest(B(ns, {"images", "ls"}).out, ref), manifest_);
  EXPECT_THAT(C(ns, {"images", "check"}).out, HasSubstr("complete"));
}

TEST_F(BerthPullPushE2E, ASchema1ImageIsRefusedByName) {
  // tests/e2e/fake_token_registry.py serving a Docker schema 1 manifest under fake/app:v1.
  const fs::path d = dir_->path() / "fake";
  fs::create_directories(d);
  std::ofstream(d / "manifest") << R"({"schemaVersion":1,"name":"fake/app","tag":"v1","architecture":"amd64",)"
                                << R"("fsLayers":[],"history":[],"signatures":[]})";
  std::ofstream(d / "blob") << "blob";
  std::ofstream(d / "redirect") << "redirect";
  BackgroundProcess server({"python3", (fs::path(BERTH_SOURCE_DIR) / "tests/e2e/fake_token_registry.py").string(),
                            "--repo", "fake/app", "--manifest", (d / "manifest").string(), "--media-type",
                            "application/vnd.docker.distribution.manifest.v1+prettyjws", "--blob",
                            (d / "blob").string(), "--redirect-blob", (d / "redirect").string(), "--user", "bob",
                            "--password", "builder", "--log", (d / "requests.log").string()},
                           d / "server.out");
  ASSERT_TRUE(server.WaitForOutput("LISTENING ", 20s)) << server.Output();
  const std::string out = server.Output();
  const std::string ref = "127.0.0.1:" + std::to_string(std::stoi(out.substr(out.find("LISTENING ") + 10))) +
                          "/fake/app:v1";
  auto pull = B(Ns("s1"), {"pull", "--plain-http", "--user", "bob:builder", ref});
  EXPECT_EQ(pull.exit_code, 1) << e2e::Describe(pull);
  EXPECT_THAT(pull.err, HasSubstr("schema 1"));
  EXPECT_THAT(pull.err, Not(HasSubstr("not found")));
}

}  // namespace
}  // namespace berth::e2e
