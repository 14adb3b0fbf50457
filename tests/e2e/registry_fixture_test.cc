// The test-image and local-registry fixtures themselves (no berthd): scripts/mkimage builds a
// valid, reproducible OCI layout; scripts/test-registry serves it on loopback, anonymously or
// behind basic auth, with digests preserved. Checked with skopeo, independently of berth.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

bool HaveTool(const std::string& name) {
  return Run({"sh", "-c", "command -v " + name}, 10s).exit_code == 0;
}

#define REQUIRE_TOOLS()                                                                    \
  do {                                                                                     \
    for (const char* t : {"docker-registry", "skopeo", "curl", "htpasswd", "zstd"}) {      \
      if (!HaveTool(t)) GTEST_SKIP() << t << " not installed (run scripts/setup)";         \
    }                                                                                      \
  } while (0)

std::string Sha256Of(const fs::path& p) {
  auto r = e2e::Run({"sha256sum", p.string()}, 60s);
  return r.exit_code == 0 ? "sha256:" + r.out.substr(0, 64) : "";
}

// Private auth file so the user's own registry credentials never play a part.
std::vector<std::string> SkopeoInspect(const fs::path& authfile, const std::string& ref,
                                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"skopeo", "inspect", "--authfile", authfile.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(ref);
  return argv;
}

std::string DigestField(const std::string& inspect_json) {
  auto j = nlohmann::json::parse(inspect_json, nullptr, false);
  return j.is_object() ? j.value("Digest", "") : "";
}

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    authfile_ = dir_->path() / "auth.json";
    std::ofstream(authfile_) << "{}\n";
  }
  std::unique_ptr<TempDir> dir_;
  fs::path authfile_;
};

TEST_F(RegistryFixture, MkimageIsValidAndReproducible) {
  REQUIRE_TOOLS();
  MkimageOptions opts{.tag = "v1", .layers = 2, .greeting = "hi there", .big_mb = 1, .whiteout_test = true};
  auto a = BuildTestImage(dir_->path() / "a", opts);
  auto b = BuildTestImage(dir_->path() / "b", opts);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());

  auto digest = LayoutManifestDigest(a, "v1");
  ASSERT_THAT(digest, ::testing::StartsWith("sha256:"));
  EXPECT_EQ(digest, LayoutManifestDigest(b, "v1")) << "same inputs must give the same digests";
  EXPECT_EQ(LayoutManifestDigest(a, "nope"), "");

  // Every blob is named by its content's digest.
  int blobs = 0;
  for (const auto& e : fs::directory_iterator(a / "blobs" / "sha256")) {
    EXPECT_EQ(Sha256Of(e.path()), "sha256:" + e.path().filename().string());
    ++blobs;
  }
  // base + 1 extra + 2 whiteout + big = 5 layers, plus config and manifest.
  auto layers = LayoutLayers(a, "v1");
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(blobs, 7);
  for (const auto& [mt, d] : layers) {
    EXPECT_EQ(mt, "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_TRUE(fs::exists(LayoutBlobPath(a, d))) << d;
  }
  // The big layer does not compress.
  EXPECT_GT(fs::file_size(LayoutBlobPath(a, layers.back().second)), 1024u * 1024u);

  // Whiteouts are in the layers as OCI spells them.
  auto wh = e2e::Run({"tar", "-tzf", LayoutBlobPath(a, layers[2].second).string()});
  EXPECT_THAT(wh.out, HasSubstr("whiteout/.wh.deleted.txt"));
  auto opq = e2e::Run({"tar", "-tzf", LayoutBlobPath(a, layers[3].second).string()});
  EXPECT_THAT(opq.out, HasSubstr("whiteout/opaque/.wh..wh..opq"));
  auto greet = e2e::Run({"tar", "-xzOf", LayoutBlobPath(a, layers[0].second).string(), "hello.txt"});
  EXPECT_EQ(greet.out, "hi there\n");

  // skopeo reads the layout; config diff_ids are the uncompressed tars' digests.
  auto r = e2e::Run(SkopeoInspect(authfile_, "oci:" + a.string() + ":v1"));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(DigestField(r.out), digest);
  r = e2e::Run(SkopeoInspect(authfile_, "oci:" + a.string() + ":v1", {"--config"}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto config = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(config.is_object()) << r.out;
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["config"]["Cmd"], nlohmann::json::array({"sh"}));
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 5u);
  auto plain = e2e::Run({"sh", "-c", "gzip -dc < '" + LayoutBlobPath(a, layers[0].second).string() + "' | sha256sum"});
  EXPECT_EQ("sha256:" + plain.out.substr(0, 64), config["rootfs"]["diff_ids"][0].get<std::string>());
  EXPECT_EQ(config["history"].size(), 5u);

  // A different greeting gives a different image.
  auto c = BuildTestImage(dir_->path() / "c", {.tag = "v1", .greeting = "other"});
  ASSERT_FALSE(c.empty());
  EXPECT_NE(LayoutManifestDigest(c, "v1"), digest);
}

TEST_F(RegistryFixture, AnonymousPushKeepsDigests) {
  REQUIRE_TOOLS();
  auto gz = BuildTestImage(dir_->path() / "gz", {.tag = "v1", .layers = 2});
  auto zst = BuildTestImage(dir_->path() / "zst", {.tag = "z", .compression = "zstd", .whiteout_test = true});
  auto tar = BuildTestImage(dir_->path() / "tar", {.tag = "t", .compression = "none"});
  ASSERT_FALSE(gz.empty() || zst.empty() || tar.empty());
  EXPECT_EQ(LayoutLayers(zst, "z").front().first, "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(LayoutLayers(tar, "t").front().first, "application/vnd.oci.image.layer.v1.tar");

  fs::path regdir = dir_->path() / "registry";
  auto reg = TestRegistry::Start(regdir);
  ASSERT_NE(reg, nullptr);
  EXPECT_THAT(reg->host(), ::testing::MatchesRegex("127\\.0\\.0\\.1:[0-9]+"));
  EXPECT_EQ(reg->UserColonPassword(), "");

  std::string err;
  ASSERT_TRUE(reg->Push(gz, "v1", "busybox:v1", &err)) << err;
  ASSERT_TRUE(reg->Push(zst, "z", "library/busybox:zstd", &err)) << err;
  ASSERT_TRUE(reg->Push(tar, "t", "plain:latest", &err)) << err;
  EXPECT_FALSE(reg->Push(gz, "no-such-tag", "busybox:x", &err));

  struct Case { fs::path layout; std::string tag, ref; };
  for (const auto& c : {Case{gz, "v1", "busybox:v1"}, Case{zst, "z", "library/busybox:zstd"},
                        Case{tar, "t", "plain:latest"}}) {
    auto r = e2e::Run(SkopeoInspect(authfile_, "docker://" + reg->Ref(c.ref), {"--tls-verify=false", "--no-creds"}));
    ASSERT_EQ(r.exit_code, 0) << Describe(r) << "\nregistry log:\n" << reg->Log();
    EXPECT_EQ(DigestField(r.out), LayoutManifestDigest(c.layout, c.tag)) << c.ref;
  }

  // The registry is gone, with its state, once stopped.
  std::string host = reg->host();
  reg.reset();
  EXPECT_FALSE(fs::exists(regdir / "data"));
  EXPECT_FALSE(fs::exists(regdir / "pid"));
  auto probe = e2e::Run({"curl", "--noproxy", "*", "-s", "-m", "2", "http://" + host + "/v2/"}, 10s);
  EXPECT_NE(probe.exit_code, 0) << "registry still answering on " << host;
}

TEST_F(RegistryFixture, BasicAuthRequiresCredentials) {
  REQUIRE_TOOLS();
  auto img = BuildTestImage(dir_->path() / "img", {.tag = "v1"});
  ASSERT_FALSE(img.empty());
  auto reg = TestRegistry::Start(dir_->path() / "registry", TestRegistry::Credentials{"alice", "pa:ss w0rd"});
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->UserColonPassword(), "alice:pa:ss w0rd");

  std::string err;
  ASSERT_TRUE(reg->Push(img, "v1", "private/busybox:v1", &err)) << err;

  std::string ref = "docker://" + reg->Ref("private/busybox:v1");
  auto anon = e2e::Run(SkopeoInspect(authfile_, ref, {"--tls-verify=false", "--no-creds"}));
  EXPECT_NE(anon.exit_code, 0) << Describe(anon);
  EXPECT_THAT(anon.err, HasSubstr("unauthorized"));

  auto wrong = e2e::Run(SkopeoInspect(authfile_, ref, {"--tls-verify=false", "--creds", "alice:wrong"}));
  EXPECT_NE(wrong.exit_code, 0) << Describe(wrong);

  auto ok = e2e::Run(SkopeoInspect(authfile_, ref, {"--tls-verify=false", "--creds", reg->UserColonPassword()}));
  ASSERT_EQ(ok.exit_code, 0) << Describe(ok) << "\nregistry log:\n" << reg->Log();
  EXPECT_EQ(DigestField(ok.out), LayoutManifestDigest(img, "v1"));

  // Plain HTTP API: the challenge is basic auth.
  auto challenge = e2e::Run({"curl", "--noproxy", "*", "-s", "-D", "-", "-o", "/dev/null", "-m", "5",
                        "http://" + reg->host() + "/v2/"}, 10s);
  EXPECT_THAT(challenge.out, HasSubstr("401"));
  EXPECT_THAT(challenge.out, ::testing::ContainsRegex("[Ww]ww-[Aa]uthenticate: Basic"));
}

TEST_F(RegistryFixture, TwoRegistriesSideBySide) {
  REQUIRE_TOOLS();
  auto r1 = TestRegistry::Start(dir_->path() / "r1");
  auto r2 = TestRegistry::Start(dir_->path() / "r2", TestRegistry::Credentials{"u", "p"});
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_NE(r1->host(), r2->host());
}

}  // namespace
}  // namespace berth::e2e
