// The registry client (src/remotes) against real servers, no berthd: Debian's docker-registry
// (anonymous and htpasswd basic auth) seeded with skopeo, and a small python fake
// (fake_token_registry.py) for Bearer tokens, cut transfers, retries and redirects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "harness.h"
#include "registry.h"
#include "remotes/reference.h"
#include "remotes/registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using remotes::Descriptor;
using remotes::Registry;
using remotes::RegistryOptions;
using ::testing::HasSubstr;

bool HaveTool(const std::string& name) { return Run({"sh", "-c", "command -v " + name}, 10s).exit_code == 0; }

std::string Sha256(std::string_view data) { return Sha256Of(data).String(); }

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

RegistryOptions PlainHttp(remotes::CredentialsFn creds = nullptr) {
  RegistryOptions o;
  o.plain_http = true;
  o.credentials = std::move(creds);
  o.backoff = 10ms;
  o.connect_timeout = 5s;
  return o;
}

std::unique_ptr<Registry> MustOpen(const std::string& host, RegistryOptions o) {
  auto r = Registry::Open(host, std::move(o));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

Result<std::string> Fetch(Registry& reg, const std::string& repo, const Descriptor& d, int64_t offset = 0) {
  std::string got;
  Status st = reg.FetchBlob(repo, d, offset, [&](std::string_view data) {
    got.append(data);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return got;
}

remotes::BlobSource SourceOf(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](std::span<char> buf) -> Result<size_t> {
    size_t n = std::min(buf.size(), data.size() - *pos);
    std::copy_n(data.data() + *pos, n, buf.data());
    *pos += n;
    return n;
  };
}

#define REQUIRE_TOOLS()                                                                     \
  do {                                                                                      \
    for (const char* t : {"docker-registry", "skopeo", "curl", "htpasswd", "python3"}) {    \
      if (!HaveTool(t)) GTEST_SKIP() << t << " not installed (run scripts/setup)";          \
    }                                                                                       \
  } while (0)

// One image and one anonymous registry for the suite (mkimage and skopeo take seconds).
class RemotesRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    layout_ = BuildTestImage(dir_->path() / "img", {.tag = "v1", .layers = 2});
    if (layout_.empty()) return;
    registry_ = TestRegistry::Start(dir_->path() / "registry").release();
    std::string err;
    if (registry_ != nullptr && !registry_->Push(layout_, "v1", "remotes/busybox:v1", &err)) {
      ADD_FAILURE() << "push: " << err;
    }
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    REQUIRE_TOOLS();
    ASSERT_NE(registry_, nullptr);
    ASSERT_FALSE(layout_.empty());
    reg_ = MustOpen(registry_->host(), PlainHttp());
    ASSERT_NE(reg_, nullptr);
  }

  static Descriptor LayoutDescriptor(const std::string& media_type, const std::string& digest) {
    return {.media_type = media_type,
            .digest = digest,
            .size = static_cast<int64_t>(fs::file_size(LayoutBlobPath(layout_, digest)))};
  }
  static std::string ManifestBytes() { return ReadFile(LayoutBlobPath(layout_, LayoutManifestDigest(layout_, "v1"))); }

  static inline TempDir* dir_ = nullptr;
  static inline fs::path layout_;
  static inline TestRegistry* registry_ = nullptr;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RemotesRegistryTest, ResolveTagGivesTheLayoutsManifest) {
  auto ref = remotes::ParseReference(registry_->Ref("remotes/busybox:v1"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto desc = reg_->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, LayoutManifestDigest(layout_, "v1"));
  EXPECT_EQ(desc->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(desc->size, static_cast<int64_t>(ManifestBytes().size()));

  // By digest too, and a digest the tag does not have is refused.
  auto by_digest = remotes::ParseReference(registry_->Ref("remotes/busybox@" + desc->digest));
  ASSERT_TRUE(by_digest.ok());
  auto again = reg_->Resolve(*by_digest);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->digest, desc->digest);
}

TEST_F(RemotesRegistryTest, MissingTagRepoOrBlobIsNotFound) {
  auto tag = remotes::ParseReference(registry_->Ref("remotes/busybox:nope"));
  ASSERT_TRUE(tag.ok());
  auto r = reg_->Resolve(*tag);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Errc::kNotFound)) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("remotes/busybox:nope"));

  auto repo = remotes::ParseReference(registry_->Ref("remotes/nothing-here:v1"));
  ASSERT_TRUE(repo.ok());
  EXPECT_TRUE(reg_->Resolve(*repo).status().Is(Errc::kNotFound));

  const std::string absent = Sha256("no such blob");
  auto exists = reg_->BlobExists("remotes/busybox", absent);
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE(*exists);
  auto fetched = Fetch(*reg_, "remotes/busybox", {.media_type = "", .digest = absent, .size = 3});
  EXPECT_TRUE(fetched.status().Is(Errc::kNotFound)) << fetched.status().ToString();
}

TEST_F(RemotesRegistryTest, FetchManifestAndBlobsWholeAndFromAnOffset) {
  const std::string digest = LayoutManifestDigest(layout_, "v1");
  Descriptor mdesc = LayoutDescriptor("application/vnd.oci.image.manifest.v1+json", digest);
  std::string media_type;
  auto manifest = reg_->FetchManifest("remotes/busybox", mdesc, &media_type);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(*manifest, ManifestBytes());
  EXPECT_EQ(media_type, "application/vnd.oci.image.manifest.v1+json");

  // A wrong size is caught.
  Descriptor wrong = mdesc;
  wrong.size += 1;
  EXPECT_TRUE(reg_->FetchManifest("remotes/busybox", wrong).status().Is(Errc::kFailedPrecondition));

  auto layers = LayoutLayers(layout_, "v1");
  ASSERT_EQ(layers.size(), 2u);
  for (const auto& [type, layer_digest] : layers) {
    Descriptor d = LayoutDescriptor(type, layer_digest);
    const std::string want = ReadFile(LayoutBlobPath(layout_, layer_digest));
    auto whole = Fetch(*reg_, "remotes/busybox", d);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_TRUE(*whole == want) << layer_digest << ": " << whole->size() << " bytes, want " << want.size();

    const int64_t offset = d.size / 3;
    auto tail = Fetch(*reg_, "remotes/busybox", d, offset);
    ASSERT_TRUE(tail.ok()) << tail.status().ToString();
    EXPECT_TRUE(*tail == want.substr(static_cast<size_t>(offset))) << tail->size();

    auto nothing = Fetch(*reg_, "remotes/busybox", d, d.size);
    ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
    EXPECT_EQ(*nothing, "");
  }

  // A size larger than the blob: the byte count check fails, after the retries.
  auto [type, first] = layers.front();
  Descriptor longer = LayoutDescriptor(type, first);
  longer.size += 10;
  auto too_short = Fetch(*reg_, "remotes/busybox", longer);
  EXPECT_TRUE(too_short.status().Is(Errc::kFailedPrecondition)) << too_short.status().ToString();
  Descriptor shorter = LayoutDescriptor(type, first);
  shorter.size -= 10;
  auto too_long = Fetch(*reg_, "remotes/busybox", shorter);
  EXPECT_TRUE(too_long.status().Is(Errc::kFailedPrecondition)) << too_long.status().ToString();

  // A sink may call the registry itself (a nested transfer on the same thread).
  std::string nested;
  int inner_calls = 0;
  Status nested_st = reg_->FetchBlob("remotes/busybox", LayoutDescriptor(type, first), 0, [&](std::string_view data) {
    if (inner_calls++ == 0) {
      auto exists = reg_->BlobExists("remotes/busybox", first);
      if (!exists.ok() || !*exists) return Status(Errc::kUnknown, "nested BlobExists failed");
    }
    nested.append(data);
    return Status::Ok();
  });
  ASSERT_TRUE(nested_st.ok()) << nested_st.ToString();
  EXPECT_TRUE(nested == ReadFile(LayoutBlobPath(layout_, first)));

  // The sink's error stops the transfer and comes back as is.
  Status st = reg_->FetchBlob("remotes/busybox", LayoutDescriptor(type, first), 0,
                              [](std::string_view) { return Status(Errc::kCanceled, "sink says stop"); });
  EXPECT_TRUE(st.Is(Errc::kCanceled)) << st.ToString();
}

TEST_F(RemotesRegistryTest, PushBlobMonolithicAndChunked) {
  const std::string repo = "remotes/pushed";
  const std::string small = RandomBytes(100 * 1024 + 7, 1);
  Descriptor d1{.media_type = "application/octet-stream", .digest = Sha256(small), .size = static_cast<int64_t>(small.size())};
  auto before = reg_->BlobExists(repo, d1.digest);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_FALSE(*before);
  Status st = reg_->PushBlob(repo, d1, SourceOf(small));
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto after = reg_->BlobExists(repo, d1.digest);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*after);
  auto back = Fetch(*reg_, repo, d1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == small);

  // Chunked: 70000 bytes in 16 KiB PATCHes (the last one short).
  const std::string big = RandomBytes(70000, 2);
  Descriptor d2{.media_type = "application/octet-stream", .digest = Sha256(big), .size = static_cast<int64_t>(big.size())};
  st = reg_->PushBlob(repo, d2, SourceOf(big), 16 * 1024);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto exists = reg_->BlobExists(repo, d2.digest);
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
  back = Fetch(*reg_, repo, d2);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == big);
  // Exactly the chunk size is monolithic, one more byte is chunked: both land.
  const std::string edge = RandomBytes(16 * 1024 + 1, 3);
  Descriptor d3{.media_type = "", .digest = Sha256(edge), .size = static_cast<int64_t>(edge.size())};
  ASSERT_TRUE(reg_->PushBlob(repo, d3, SourceOf(edge), 16 * 1024).ok());
  EXPECT_TRUE(reg_->BlobExists(repo, d3.digest).value());

  // Bytes that do not match the digest are refused, monolithic or chunked.
  const std::string other = RandomBytes(5000, 4);
  Descriptor lie{.media_type = "", .digest = Sha256("something else"), .size = 5000};
  EXPECT_FALSE(reg_->PushBlob(repo, lie, SourceOf(other)).ok());
  EXPECT_FALSE(reg_->PushBlob(repo, lie, SourceOf(other), 1024).ok());
  EXPECT_FALSE(reg_->BlobExists(repo, lie.digest).value());
  // A source shorter than the descriptor says.
  Descriptor longer{.media_type = "", .digest = Sha256(other), .size = 6000};
  st = reg_->PushBlob(repo, longer, SourceOf(other));
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition)) << st.ToString();
  st = reg_->PushBlob(repo, longer, SourceOf(other), 1024);
  EXPECT_TRUE(st.Is(Errc::kFailedPrecondition)) << st.ToString();
}

TEST_F(RemotesRegistryTest, MountBlobAcrossRepositoriesThenPushManifest) {
  const std::string repo = "remotes/copy";
  auto manifest = nlohmann::json::parse(ManifestBytes());
  std::vector<std::string> blobs = {manifest["config"]["digest"].get<std::string>()};
  for (const auto& l : manifest["layers"]) blobs.push_back(l["digest"].get<std::string>());
  for (const auto& digest : blobs) {
    ASSERT_FALSE(reg_->BlobExists(repo, digest).value());
    auto mounted = reg_->MountBlob(repo, "remotes/busybox", digest);
    ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
    EXPECT_TRUE(*mounted) << digest;
    EXPECT_TRUE(reg_->BlobExists(repo, digest).value()) << digest;
  }
  // A blob the source repository does not have is not mounted (the caller uploads).
  auto absent = reg_->MountBlob(repo, "remotes/busybox", Sha256("not there"));
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_FALSE(*absent);

  const std::string bytes = ManifestBytes();
  Status st = reg_->PushManifest(repo, "v2", "application/vnd.oci.image.manifest.v1+json", bytes);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto ref = remotes::ParseReference(registry_->Ref(repo + ":v2"));
  ASSERT_TRUE(ref.ok());
  auto desc = reg_->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, LayoutManifestDigest(layout_, "v1"));
  EXPECT_EQ(desc->size, static_cast<int64_t>(bytes.size()));

  // By digest, and a digest that is not the bytes' is refused before sending.
  EXPECT_TRUE(reg_->PushManifest(repo, desc->digest, desc->media_type, bytes).ok());
  EXPECT_TRUE(reg_->PushManifest(repo, Sha256("x"), desc->media_type, bytes).Is(Errc::kInvalidArgument));
  // A manifest naming blobs the repository lacks is refused by the registry.
  auto broken = manifest;
  broken["layers"][0]["digest"] = Sha256("missing layer");
  EXPECT_FALSE(reg_->PushManifest("remotes/broken", "v1", desc->media_type, broken.dump()).ok());
}

TEST_F(RemotesRegistryTest, ConnectionRefusedIsUnavailable) {
  // Port 1: nothing listens there (retried, then given up).
  auto reg = MustOpen("127.0.0.1:1", PlainHttp());
  ASSERT_NE(reg, nullptr);
  auto ref = remotes::ParseReference("127.0.0.1:1/a:b");
  ASSERT_TRUE(ref.ok());
  auto r = reg->Resolve(*ref);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Errc::kUnavailable)) << r.status().ToString();
}

TEST_F(RemotesRegistryTest, LoopbackRegistryNeedsNoPlainHttp) {
  // ctr 1.6 talks plain http to a loopback registry without --plain-http (ConfigureHosts).
  RegistryOptions o = PlainHttp();
  o.plain_http = false;
  auto reg = MustOpen(registry_->host(), o);
  ASSERT_NE(reg, nullptr);
  auto ref = remotes::ParseReference(registry_->Ref("remotes/busybox:v1"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  auto desc = reg->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, LayoutManifestDigest(layout_, "v1"));
}

class RemotesRegistryBasicAuthTest : public ::testing::Test {};

TEST_F(RemotesRegistryBasicAuthTest, CredentialsWrongPasswordAndAnonymous) {
  REQUIRE_TOOLS();
  TempDir dir;
  auto layout = BuildTestImage(dir.path() / "img", {.tag = "v1", .layers = 1});
  ASSERT_FALSE(layout.empty());
  auto reg = TestRegistry::Start(dir.path() / "registry", TestRegistry::Credentials{"alice", "wonderland"});
  ASSERT_NE(reg, nullptr);
  std::string err;
  ASSERT_TRUE(reg->Push(layout, "v1", "secret/busybox:v1", &err)) << err;
  auto ref = remotes::ParseReference(reg->Ref("secret/busybox:v1"));
  ASSERT_TRUE(ref.ok());

  std::vector<std::string> asked;
  auto good = MustOpen(reg->host(), PlainHttp([&](const std::string& host) {
    asked.push_back(host);
    return std::optional<remotes::Credentials>({.username = "alice", .secret = "wonderland"});
  }));
  auto desc = good->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, LayoutManifestDigest(layout, "v1"));
  EXPECT_THAT(asked, ::testing::Contains(reg->host()));
  auto layers = LayoutLayers(layout, "v1");
  ASSERT_FALSE(layers.empty());
  Descriptor l{.media_type = layers[0].first, .digest = layers[0].second,
               .size = static_cast<int64_t>(fs::file_size(LayoutBlobPath(layout, layers[0].second)))};
  auto blob = Fetch(*good, "secret/busybox", l, 10);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(blob->size()), l.size - 10);
  const std::string data = RandomBytes(3000, 9);
  ASSERT_TRUE(good->PushBlob("secret/other", {.media_type = "", .digest = Sha256(data), .size = 3000}, SourceOf(data)).ok());

  auto wrong = MustOpen(reg->host(), PlainHttp([](const std::string&) {
    return std::optional<remotes::Credentials>({.username = "alice", .secret = "looking-glass"});
  }));
  auto denied = wrong->Resolve(*ref);
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.status().Is(Errc::kFailedPrecondition)) << denied.status().ToString();
  EXPECT_THAT(denied.status().message(), HasSubstr("unauthorized"));
  EXPECT_THAT(denied.status().ToString(), ::testing::Not(HasSubstr("looking-glass")));

  auto anonymous = MustOpen(reg->host(), PlainHttp());
  auto anon = anonymous->Resolve(*ref);
  ASSERT_FALSE(anon.ok());
  EXPECT_TRUE(anon.status().Is(Errc::kFailedPrecondition)) << anon.status().ToString();
}

// The python fake: Bearer tokens from a realm behind basic auth.
class RemotesRegistryTokenAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("python3")) GTEST_SKIP() << "python3 not installed";
    dir_ = std::make_unique<TempDir>();
    blob_ = RandomBytes(300 * 1024 + 11, 7);
    redirect_blob_ = RandomBytes(20000, 8);
    manifest_ = nlohmann::json{{"schemaVersion", 2},
                               {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                           {"digest", Sha256(redirect_blob_)}, {"size", redirect_blob_.size()}}},
                               {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                            {"digest", Sha256(blob_)}, {"size", blob_.size()}}}}}
                    .dump();
    std::ofstream(dir_->path() / "blob") << blob_;
    std::ofstream(dir_->path() / "redirect") << redirect_blob_;
    std::ofstream(dir_->path() / "manifest") << manifest_;
    log_ = dir_->path() / "requests.log";
  }
  void Start(const std::vector<std::string>& extra = {}) {
    fs::path script = ScriptsDir().parent_path() / "tests" / "e2e" / "fake_token_registry.py";
    std::vector<std::string> argv = {"python3", script.string(), "--repo", "fake/app", "--manifest",
                                     (dir_->path() / "manifest").string(), "--blob", (dir_->path() / "blob").string(),
                                     "--redirect-blob", (dir_->path() / "redirect").string(), "--cut", "100000",
                                     "--user", "bob", "--password", "builder", "--log", log_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<BackgroundProcess>(argv, dir_->path() / "server.out");
    ASSERT_TRUE(server_->WaitForOutput("LISTENING ", 20s)) << server_->Output();
    std::string out = server_->Output();
    host_ = "127.0.0.1:" + std::to_string(std::stoi(out.substr(out.find("LISTENING ") + 10)));
  }
  void TearDown() override {
    server_.reset();  // SIGTERM, then SIGKILL
    dir_.reset();
  }

  std::vector<nlohmann::json> Requests() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(ReadFile(log_));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  size_t CountPath(std::string_view prefix, std::string_view method = "") const {
    size_t n = 0;
    for (const auto& r : Requests()) {
      if (r["path"].get<std::string>().starts_with(prefix) && (method.empty() || r["method"] == method)) ++n;
    }
    return n;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<BackgroundProcess> server_;
  fs::path log_;
  std::string host_, blob_, redirect_blob_, manifest_;
};

TEST_F(RemotesRegistryTokenAuthTest, TokenFetchedOnceAndReusedAndCutBlobResumed) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::atomic<int> asked{0};
  auto reg = MustOpen(host_, PlainHttp([&](const std::string&) {
    ++asked;
    return std::optional<remotes::Credentials>({.username = "bob", .secret = "builder"});
  }));
  ASSERT_NE(reg, nullptr);
  auto ref = remotes::ParseReference(host_ + "/fake/app:v1");
  ASSERT_TRUE(ref.ok());

  // HEAD: 503 once (retried), then 401 -> token -> HEAD without a digest -> GET and hash.
  auto desc = reg->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, Sha256(manifest_));
  EXPECT_EQ(desc->size, static_cast<int64_t>(manifest_.size()));
  EXPECT_EQ(desc->media_type, "application/vnd.oci.image.manifest.v1+json");

  auto manifest = reg->FetchManifest("fake/app", *desc);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(*manifest, manifest_);

  // The first unranged GET is cut after 100000 bytes; the retry asks for the rest.
  Descriptor blob{.media_type = "", .digest = Sha256(blob_), .size = static_cast<int64_t>(blob_.size())};
  auto got = Fetch(*reg, "fake/app", blob);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == blob_) << got->size() << " bytes, want " << blob_.size();
  // And from an offset.
  auto tail = Fetch(*reg, "fake/app", blob, 5);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_TRUE(*tail == blob_.substr(5));

  // Through a redirect to another host: no Authorization goes there.
  Descriptor moved{.media_type = "", .digest = Sha256(redirect_blob_), .size = static_cast<int64_t>(redirect_blob_.size())};
  auto redirected = Fetch(*reg, "fake/app", moved);
  ASSERT_TRUE(redirected.ok()) << redirected.status().ToString();
  EXPECT_TRUE(*redirected == redirect_blob_);

  EXPECT_GT(asked.load(), 0);
  EXPECT_EQ(CountPath("/token"), 1u) << "one token for every pull of the repository";
  std::vector<std::string> blob_ranges;
  size_t storage = 0;
  for (const auto& r : Requests()) {
    std::string path = r["path"];
    if (path == "/v2/fake/app/blobs/" + blob.digest && r["auth"] == "Bearer") blob_ranges.push_back(r["range"]);
    if (path.starts_with("/storage/")) {
      ++storage;
      EXPECT_EQ(r["auth"], "") << "credentials leaked to the redirect target";
    }
    if (path.starts_with("/v2/") && r["auth"] != "") {
      EXPECT_EQ(r["auth"], "Bearer") << path;
    }
  }
  EXPECT_EQ(storage, 1u);
  EXPECT_THAT(blob_ranges, ::testing::ElementsAre("", "bytes=100000-", "bytes=5-"));
  EXPECT_EQ(CountPath("/v2/fake/app/manifests/v1", "HEAD"), 3u) << "503, 401, then 200";
}

TEST_F(RemotesRegistryTokenAuthTest, ParallelFetchesShareOneToken) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto reg = MustOpen(host_, PlainHttp([](const std::string&) {
    return std::optional<remotes::Credentials>({.username = "bob", .secret = "builder"});
  }));
  Descriptor blob{.media_type = "", .digest = Sha256(blob_), .size = static_cast<int64_t>(blob_.size())};
  constexpr int kThreads = 6;
  std::vector<Result<std::string>> results(kThreads, Status(Errc::kUnknown, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    // From offset 1 + i: ranged requests, so the fake's one cut transfer does not come into it.
    threads.emplace_back([&, i] { results[i] = Fetch(*reg, "fake/app", blob, 1 + i); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status().ToString();
    EXPECT_TRUE(*results[i] == blob_.substr(static_cast<size_t>(1 + i))) << i;
  }
  // The first requests race to the 401; the token fetches are serialised and cached.
  EXPECT_EQ(CountPath("/token"), 1u);
}

TEST_F(RemotesRegistryTokenAuthTest, WrongCredentialsForTheRealmAreUnauthorized) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto reg = MustOpen(host_, PlainHttp([](const std::string&) {
    return std::optional<remotes::Credentials>({.username = "bob", .secret = "wrong"});
  }));
  auto ref = remotes::ParseReference(host_ + "/fake/app:v1");
  ASSERT_TRUE(ref.ok());
  auto r = reg->Resolve(*ref);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Errc::kFailedPrecondition)) << r.status().ToString();
  EXPECT_THAT(r.status().ToString(), HasSubstr("unauthorized"));
  EXPECT_THAT(r.status().ToString(), ::testing::Not(HasSubstr("wrong")));
}

TEST_F(RemotesRegistryTokenAuthTest, HttpsWithExtraCaSkipVerifyOrNeither) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "openssl not installed";
  const fs::path cert = dir_->path() / "cert.pem", key = dir_->path() / "key.pem";
  auto gen = e2e::Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.string(), "-out",
                  cert.string()},
                 60s);
  ASSERT_EQ(gen.exit_code, 0) << Describe(gen);
  ASSERT_NO_FATAL_FAILURE(Start({"--tls-cert", cert.string(), "--tls-key", key.string()}));
  auto creds = [](const std::string&) {
    return std::optional<remotes::Credentials>({.username = "bob", .secret = "builder"});
  };
  auto ref = remotes::ParseReference(host_ + "/fake/app:v1");
  ASSERT_TRUE(ref.ok());
  Descriptor moved{.media_type = "", .digest = Sha256(redirect_blob_), .size = static_cast<int64_t>(redirect_blob_.size())};

  RegistryOptions with_ca = PlainHttp(creds);
  with_ca.plain_http = false;
  with_ca.loopback_https = true;  // 127.0.0.1 is plain http otherwise, as ctr talks to it
  with_ca.ca_file = cert.string();
  auto trusted = MustOpen(host_, with_ca);
  auto desc = trusted->Resolve(*ref);
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  EXPECT_EQ(desc->digest, Sha256(manifest_));
  auto got = Fetch(*trusted, "fake/app", moved);  // redirected to https://localhost
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == redirect_blob_);

  RegistryOptions plain = with_ca;
  plain.ca_file = "";
  plain.retries = 0;
  auto untrusted = MustOpen(host_, plain);
  auto refused = untrusted->Resolve(*ref);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().Is(Errc::kUnavailable)) << refused.status().ToString();

  RegistryOptions skip = plain;
  skip.skip_verify = true;
  auto insecure = MustOpen(host_, skip);
  auto skipped = insecure->Resolve(*ref);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->digest, Sha256(manifest_));

  RegistryOptions missing = with_ca;
  missing.ca_file = (dir_->path() / "absent.pem").string();
  EXPECT_TRUE(Registry::Open(host_, missing).status().Is(Errc::kInvalidArgument));
}

}  // namespace
}  // namespace berth::e2e
