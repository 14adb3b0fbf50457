// Image archives and unpacking against a real berthd: `berth images export` makes an OCI
// archive skopeo and ctr read; `berth images import` takes berth's own archives and `docker
// save` style ones (made by skopeo), unpacks them, and containers run from the result; bad
// archives fail clearly and leave no image; `berth images unpack` commits the chain, reuses
// it, and garbage collection keeps it exactly as long as the image lives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "multi_platform.h"
#include "registry.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

// Committed snapshot keys of `ctr snapshots ls` (KEY PARENT KIND).
std::set<std::string> CommittedSnapshots(const std::string& ls) {
  std::set<std::string> out;
  std::istringstream in(ls);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (line.find("Committed") != std::string::npos) out.insert(key);
  }
  return out;
}

// One daemon with the test image pulled (by the real ctr) into the namespace kSource; every
// test works in namespaces of its own.
class ImageArchiveE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::unsetenv("BERTH_NAMESPACE");
    ::unsetenv("CONTAINERD_NAMESPACE");
    dir_ = new TempDir();
    daemon_ = new Berthd(dir_->path() / "berthd");
    MkimageOptions opts;
    opts.layers = 3;
    layout_ = BuildTestImage(dir_->path() / "layout", opts);
    registry_ = TestRegistry::Start(dir_->path() / "registry").release();
    if (layout_.empty() || registry_ == nullptr) return;
    std::string err;
    if (!registry_->Push(layout_, "latest", "berth/archive:1", &err)) {
      ADD_FAILURE() << err;
      return;
    }
    image_ = registry_->Ref("berth/archive:1");
    auto r = daemon_->Ctr({"-n", Ns("src"), "images", "pull", "--plain-http", image_});
    if (r.exit_code != 0) {
      ADD_FAILURE() << Describe(r) << daemon_->Log();
      image_.clear();
    }
  }

  static void TearDownTestSuite() {
    if (daemon_ != nullptr) {
      for (const auto& ns : Lines(daemon_->Ctr({"namespaces", "ls", "-q"}).out)) {
        for (const auto& id : Lines(daemon_->Ctr({"-n", ns, "tasks", "ls", "-q"}).out)) {
          daemon_->Ctr({"-n", ns, "tasks", "rm", "-f", id});
        }
        for (const auto& id : Lines(daemon_->Ctr({"-n", ns, "containers", "ls", "-q"}).out)) {
          daemon_->Ctr({"-n", ns, "containers", "rm", id});
        }
        RemoveNamespaceCgroups(ns);
      }
      delete daemon_;
    }
    delete registry_;
    if (dir_ != nullptr) {
      for (const auto& m : MountsUnder(dir_->path())) e2e::Run({"umount", "-l", m});
    }
    delete dir_;
    daemon_ = nullptr;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (image_.empty()) GTEST_SKIP() << "no test image (see the suite set-up failure)";
  }

  static std::string Ns(const std::string& name) {
    return "arch-" + std::to_string(::getpid()) + "-" + name;
  }

  static CommandResult Berth(const std::string& ns, std::vector<std::string> args,
                             std::chrono::milliseconds timeout = 120s) {
    args.insert(args.begin(), {"-n", ns});
    return daemon_->Berth(args, timeout);
  }
  static CommandResult Ctr(const std::string& ns, std::vector<std::string> args,
                           std::chrono::milliseconds timeout = 120s) {
    args.insert(args.begin(), {"-n", ns});
    return daemon_->Ctr(args, timeout);
  }

  // `berth images export` of the pulled image; "" after a test failure.
  static fs::path Export(const std::string& file_name, std::vector<std::string> flags = {}) {
    fs::path out = dir_->path() / file_name;
    std::vector<std::string> args = {"images", "export"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {out.string(), image_});
    auto r = Berth(Ns("src"), args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
    EXPECT_EQ(r.out, "");
    return r.exit_code == 0 ? out : fs::path();
  }

  // `ctr events` started and known to be subscribed (a marker namespace event shows up).
  static std::unique_ptr<BackgroundProcess> Subscribe(const std::string& file_name) {
    auto p = std::make_unique<BackgroundProcess>(daemon_->CtrArgv({"events"}),
                                                 dir_->path() / file_name);
    for (int i = 0; i < 100; ++i) {
      const std::string marker = Ns("marker" + std::to_string(i));
      daemon_->Ctr({"namespaces", "create", marker});
      if (p->WaitForOutput(marker, 100ms)) return p;
    }
    ADD_FAILURE() << "ctr events never subscribed:\n" << p->Output();
    return p;
  }

  // Runs a container of `image` in `ns` printing the greeting.
  static void ExpectGreeting(const std::string& ns, const std::string& image) {
    auto r = Berth(ns, {"run", "--rm", image, "greet", "cat", "/etc/greeting"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
    EXPECT_EQ(r.out, "hello from berth\n");
    EXPECT_THAT(RemoveNamespaceCgroups(ns), IsEmpty()) << "container cgroups left behind";
  }

  static inline TempDir* dir_ = nullptr;
  static inline Berthd* daemon_ = nullptr;
  static inline TestRegistry* registry_ = nullptr;
  static inline fs::path layout_;
  static inline std::string image_;
};

TEST_F(ImageArchiveE2E, ExportIsAnOciArchiveSkopeoReads) {
  fs::path out = Export("export.tar");
  ASSERT_FALSE(out.empty());
  const std::string manifest = LayoutManifestDigest(layout_, "latest");
  const auto layers = LayoutLayers(layout_, "latest");
  ASSERT_EQ(layers.size(), 3u);

  auto listing = e2e::Run({"tar", "tf", out.string()});
  ASSERT_EQ(listing.exit_code, 0) << Describe(listing);
  auto names = Lines(listing.out);
  for (const char* name : {"oci-layout", "index.json", "manifest.json", "blobs/", "blobs/sha256/"}) {
    EXPECT_TRUE(names.contains(name)) << name << " missing from\n" << listing.out;
  }
  EXPECT_TRUE(names.contains("blobs/sha256/" + manifest.substr(7))) << listing.out;
  for (const auto& [type, digest] : layers) {
    EXPECT_TRUE(names.contains("blobs/sha256/" + digest.substr(7))) << digest << "\n" << listing.out;
  }
  // manifest, config, three layers, and the five other entries: nothing else.
  EXPECT_EQ(names.size(), 10u) << listing.out;

  auto index = e2e::Run({"tar", "xOf", out.string(), "index.json"});
  auto json = nlohmann::json::parse(index.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << index.out;
  ASSERT_EQ(json["manifests"].size(), 1u) << index.out;
  EXPECT_EQ(json["manifests"][0]["digest"], manifest);
  EXPECT_EQ(json["manifests"][0]["annotations"]["io.containerd.image.name"], image_);
  EXPECT_EQ(json["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "1");
  auto docker = nlohmann::json::parse(e2e::Run({"tar", "xOf", out.string(), "manifest.json"}).out, nullptr, false);
  ASSERT_TRUE(docker.is_array() && docker.size() == 1) << docker;
  EXPECT_EQ(docker[0]["RepoTags"], nlohmann::json::array({image_}));
  EXPECT_EQ(docker[0]["Layers"].size(), 3u);

  auto inspect = e2e::Run({"skopeo", "--insecure-policy", "inspect", "--raw", "oci-archive:" + out.string()});
  ASSERT_EQ(inspect.exit_code, 0) << Describe(inspect);
  EXPECT_EQ(ReadFile(LayoutBlobPath(layout_, manifest)), inspect.out) << "the same manifest bytes";
  inspect = e2e::Run({"skopeo", "--insecure-policy", "inspect", "oci-archive:" + out.string()});
  ASSERT_EQ(inspect.exit_code, 0) << Describe(inspect);
  auto info = nlohmann::json::parse(inspect.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << inspect.out;
  EXPECT_EQ(info["Digest"], manifest);
  std::vector<std::string> want;
  for (const auto& [type, digest] : layers) want.push_back(digest);
  EXPECT_EQ(info["Layers"].get<std::vector<std::string>>(), want);

  // Deterministic: the same images give the same bytes.
  fs::path again = Export("export-again.tar");
  EXPECT_EQ(ReadFile(out), ReadFile(again));
  // Without manifest.json when asked.
  fs::path oci_only = Export("export-oci-only.tar", {"--skip-manifest-json"});
  EXPECT_FALSE(Lines(e2e::Run({"tar", "tf", oci_only.string()}).out).contains("manifest.json"));
  // To stdout.
  auto piped = e2e::Run({"sh", "-c", "\"$@\" | sha256sum", "sh", BerthBin(), "--address",
                         daemon_->socket().string(), "-n", Ns("src"), "images", "export", "-", image_});
  EXPECT_EQ(piped.out.substr(0, 64), e2e::Run({"sha256sum", out.string()}).out.substr(0, 64));
  // Unknown images fail.
  auto r = Berth(Ns("src"), {"images", "export", (dir_->path() / "none.tar").string(), "nope:1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("nope:1"));
  EXPECT_FALSE(fs::exists(dir_->path() / "none.tar"));
}

TEST_F(ImageArchiveE2E, ImportDockerSaveArchiveAndRun) {
  const fs::path tar = dir_->path() / "docker.tar";
  auto r = e2e::Run({"skopeo", "--insecure-policy", "copy", "-q", "oci:" + layout_.string() + ":latest",
                     "docker-archive:" + tar.string() + ":berth/docker:1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::string ns = Ns("docker");
  r = Berth(ns, {"images", "import", tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_THAT(r.out, MatchesRegex("unpacking docker.io/berth/docker:1 \\(sha256:[0-9a-f]{64}\\)\\.\\.\\.done\n"));
  r = Ctr(ns, {"images", "check"});
  EXPECT_THAT(r.out, HasSubstr("complete (4/4)")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("application/vnd.docker.distribution.manifest.v2+json")) << r.out;
  ExpectGreeting(ns, "docker.io/berth/docker:1");
  // The manifest synthesized is the one containerd's importer makes of the same archive.
  const std::string theirs = Ns("docker-ctr");
  r = Ctr(theirs, {"images", "import", "--no-unpack", tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto ours_ls = Ctr(ns, {"images", "ls"}).out, theirs_ls = Ctr(theirs, {"images", "ls"}).out;
  auto digest_of = [](const std::string& ls) {
    auto at = ls.find("sha256:");
    return at == std::string::npos ? std::string() : ls.substr(at, 71);
  };
  EXPECT_FALSE(digest_of(ours_ls).empty()) << ours_ls;
  EXPECT_EQ(digest_of(ours_ls), digest_of(theirs_ls)) << ours_ls << theirs_ls;
  // Importing again updates the image in place.
  r = Berth(ns, {"images", "import", "--no-unpack", tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Berth(ns, {"images", "ls", "-q"}).out, "docker.io/berth/docker:1\n");
}

TEST_F(ImageArchiveE2E, ImportOwnExportElsewhereAndRun) {
  fs::path out = Export("roundtrip.tar");
  ASSERT_FALSE(out.empty());
  const std::string ns = Ns("round");
  auto r = Berth(ns, {"images", "import", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  const std::string manifest = LayoutManifestDigest(layout_, "latest");
  EXPECT_EQ(r.out, "unpacking " + image_ + " (" + manifest + ")...done\n");
  // The same blobs as the original.
  auto original = Lines(Ctr(Ns("src"), {"content", "ls", "-q"}).out);
  auto imported = Lines(Ctr(ns, {"content", "ls", "-q"}).out);
  for (const auto& d : original) EXPECT_TRUE(imported.contains(d)) << d;
  EXPECT_THAT(Ctr(ns, {"images", "check"}).out, HasSubstr("complete (4/4)"));
  // The same snapshot chain.
  EXPECT_EQ(CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out),
            CommittedSnapshots(Ctr(Ns("src"), {"snapshots", "ls"}).out));
  ExpectGreeting(ns, image_);
  // From stdin.
  const std::string piped = Ns("piped");
  r = e2e::Run({"sh", "-c", "exec \"$@\" <\"$0\"", out.string(), BerthBin(), "--address",
                daemon_->socket().string(), "-n", piped, "images", "import", "-"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "unpacking " + image_ + " (" + manifest + ")...done\n");
  EXPECT_THAT(Ctr(piped, {"images", "check"}).out, HasSubstr("complete (4/4)"));

  // --base-name filters names, --digests adds one per manifest, --index-name keeps the index.
  const std::string ns2 = Ns("names");
  r = Berth(ns2, {"images", "import", "--no-unpack", "--digests", "--index-name", "idx:1",
                  "--base-name", registry_->Ref("berth/archive"), out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Berth(ns2, {"images", "ls", "-q"}).out,
            image_ + "\n" + registry_->Ref("berth/archive") + "@" + manifest + "\nidx:1\n");
  const std::string ns3 = Ns("filtered");
  r = Berth(ns3, {"images", "import", "--no-unpack", "--base-name", "other/name", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Berth(ns3, {"images", "ls", "-q"}).out, image_ + "\n")
      << "io.containerd.image.name is taken as is, as ctr does";
}

TEST_F(ImageArchiveE2E, CtrImportsBerthsExport) {
  fs::path out = Export("for-ctr.tar");
  ASSERT_FALSE(out.empty());
  const std::string ns = Ns("ctr");
  auto r = Ctr(ns, {"images", "import", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_THAT(r.out, HasSubstr("unpacking " + image_));
  EXPECT_THAT(Ctr(ns, {"images", "check"}).out, HasSubstr("complete (4/4)"));
  ExpectGreeting(ns, image_);
}

TEST_F(ImageArchiveE2E, BadArchivesFailAndLeaveNoImage) {
  const std::string ns = Ns("bad");
  auto expect_failure = [&](const fs::path& file, const std::string& message) {
    auto r = Berth(ns, {"images", "import", file.string()});
    EXPECT_NE(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(message)) << file;
    EXPECT_THAT(r.err, HasSubstr("invalid argument")) << file;
    EXPECT_EQ(Berth(ns, {"images", "ls", "-q"}).out, "") << file;
  };
  const fs::path text = dir_->path() / "not-a-tar";
  std::ofstream(text) << "this is not an archive\n";
  expect_failure(text, "not a tar archive");

  const fs::path other = dir_->path() / "other";
  fs::create_directories(other);
  std::ofstream(other / "hello.txt") << "hi\n";
  auto r = e2e::Run({"tar", "-C", other.string(), "-cf", (dir_->path() / "other.tar").string(), "hello.txt"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  expect_failure(dir_->path() / "other.tar", "unrecognized image format");

  // An OCI archive whose layer's bytes do not match its digest (same size).
  fs::path out = Export("to-break.tar");
  ASSERT_FALSE(out.empty());
  const fs::path unpacked = dir_->path() / "broken";
  fs::create_directories(unpacked);
  r = e2e::Run({"tar", "-C", unpacked.string(), "-xf", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const auto layers = LayoutLayers(layout_, "latest");
  const fs::path victim = LayoutBlobPath(unpacked, layers.back().second);
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  std::string bytes = ReadFile(victim);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
  r = e2e::Run({"tar", "-C", unpacked.string(), "-cf", (dir_->path() / "broken.tar").string(), "."});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  expect_failure(dir_->path() / "broken.tar", layers.back().second.substr(7));
  EXPECT_THAT(Berth(ns, {"images", "import", (dir_->path() / "broken.tar").string()}).err,
              HasSubstr("its bytes do not match its digest " + layers.back().second));
  // A blob no namespace has, whose bytes are not its name's digest: the commit refuses it.
  const fs::path bogus = dir_->path() / "bogus";
  fs::create_directories(bogus / "blobs" / "sha256");
  const std::string zeros(64, '0');
  std::ofstream(bogus / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  std::ofstream(bogus / "index.json") << R"({"schemaVersion":2,"manifests":[]})";
  std::ofstream(bogus / "blobs" / "sha256" / zeros) << "not what the name says";
  r = e2e::Run({"tar", "-C", bogus.string(), "-cf", (dir_->path() / "bogus.tar").string(), "."});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  expect_failure(dir_->path() / "bogus.tar", "its bytes do not match its digest sha256:" + zeros);
  // No ingest is left open either.
  EXPECT_EQ(Ctr(ns, {"content", "active"}).out.find("tar-"), std::string::npos);
}

// Writes `data` as a blob of the layout; returns its descriptor fields (digest, size).
std::pair<std::string, int64_t> WriteLayoutBlob(const fs::path& layout, const std::string& data) {
  const fs::path tmp = layout / "blob.tmp";
  std::ofstream(tmp, std::ios::binary) << data;
  auto sum = e2e::Run({"sha256sum", tmp.string()});
  const std::string digest = "sha256:" + sum.out.substr(0, 64);
  fs::rename(tmp, LayoutBlobPath(layout, digest));
  return {digest, static_cast<int64_t>(data.size())};
}

TEST_F(ImageArchiveE2E, UnpackRefusesAWrongDiffIdAndCleansUp) {
  // The test image with its config's last diff id replaced (config, manifest, index rewritten).
  const fs::path layout = dir_->path() / "wrong-diff-id";
  fs::copy(layout_, layout, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(layout)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  auto index = nlohmann::json::parse(ReadFile(layout / "index.json"));
  auto manifest = nlohmann::json::parse(ReadFile(LayoutBlobPath(layout, index["manifests"][0]["digest"])));
  auto config = nlohmann::json::parse(ReadFile(LayoutBlobPath(layout, manifest["config"]["digest"])));
  const std::string fake = "sha256:" + std::string(64, 'e');
  config["rootfs"]["diff_ids"].back() = fake;
  auto [config_digest, config_size] = WriteLayoutBlob(layout, config.dump());
  manifest["config"]["digest"] = config_digest;
  manifest["config"]["size"] = config_size;
  auto [manifest_digest, manifest_size] = WriteLayoutBlob(layout, manifest.dump());
  index["manifests"][0]["digest"] = manifest_digest;
  index["manifests"][0]["size"] = manifest_size;
  std::ofstream(layout / "index.json", std::ios::trunc) << index.dump();
  const fs::path tar = dir_->path() / "wrong-diff-id.tar";
  auto r = e2e::Run({"tar", "-C", layout.string(), "-cf", tar.string(), "."});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  const std::string ns = Ns("diffid");
  auto events = Subscribe("diffid-events.out");
  r = Berth(ns, {"images", "import", "--base-name", "bad/diffid", tar.string()});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("wrong diff id calculated on extraction"));
  EXPECT_THAT(r.err, HasSubstr(fake));
  EXPECT_THAT(r.err, HasSubstr("failed precondition"));
  // The two good layers were committed and the extraction snapshot of the third removed, as
  // the events tell. What is left on disk is read from the events, not from `snapshots ls`:
  // the import's lease is gone, so a collection may already have taken the two layers (as in
  // containerd, where unreferenced snapshots are collectable too).
  ASSERT_TRUE(events->WaitForOutput(" " + ns + " /snapshot/remove ", 10s)) << events->Output();
  std::vector<std::string> committed, removed;
  for (const auto& line : Lines(events->Output())) {
    if (line.find(" " + ns + " /snapshot/commit ") != std::string::npos) committed.push_back(line);
    if (line.find(" " + ns + " /snapshot/remove ") != std::string::npos) removed.push_back(line);
  }
  ASSERT_EQ(committed.size(), 2u) << events->Output();
  ASSERT_EQ(removed.size(), 1u) << events->Output();
  EXPECT_THAT(removed[0], HasSubstr("\"key\":\"extract-")) << removed[0];
  std::set<std::string> committed_names;
  for (const auto& line : committed) {
    auto json = nlohmann::json::parse(line.substr(line.find('{')));
    committed_names.insert(json.value("name", ""));
  }
  auto ls = Ctr(ns, {"snapshots", "ls"}).out;
  EXPECT_EQ(ls.find("extract-"), std::string::npos) << ls;
  for (const auto& key : CommittedSnapshots(ls)) EXPECT_TRUE(committed_names.contains(key)) << ls;
  EXPECT_LE(Count(ls, "\n"), 3u) << ls;
  // The image was created before unpacking (as ctr does); unpack names the same failure.
  r = Berth(ns, {"images", "unpack", "bad/diffid:latest"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("wrong diff id"));
  EXPECT_EQ(Ctr(ns, {"snapshots", "ls"}).out.find("extract-"), std::string::npos);
}

TEST_F(ImageArchiveE2E, UnpackCommitsReusesAndGcFollowsTheImage) {
  fs::path out = Export("unpack.tar");
  ASSERT_FALSE(out.empty());
  const std::string ns = Ns("unpack");
  auto r = Berth(ns, {"images", "import", "--no-unpack", out.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Ctr(ns, {"snapshots", "ls"}).out.find("sha256:"), std::string::npos) << "not unpacked yet";

  r = Berth(ns, {"images", "unpack", "-q", image_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  ASSERT_THAT(r.out, MatchesRegex("sha256:[0-9a-f]{64}\n"));
  const std::string chain = r.out.substr(0, r.out.size() - 1);
  auto snapshots = CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out);
  EXPECT_EQ(snapshots.size(), 3u);
  EXPECT_TRUE(snapshots.contains(chain));
  EXPECT_EQ(snapshots, CommittedSnapshots(Ctr(Ns("src"), {"snapshots", "ls"}).out))
      << "the chain ctr's pull made";
  EXPECT_EQ(Ctr(ns, {"snapshots", "ls"}).out.find("extract-"), std::string::npos);
  // The layers carry their uncompressed digest, the config names the top snapshot.
  auto labels = Ctr(ns, {"content", "ls"}).out;
  EXPECT_EQ(Count(labels, "containerd.io/uncompressed=sha256:"), 3u) << labels;
  EXPECT_EQ(Count(labels, "containerd.io/gc.ref.snapshot.overlayfs=" + chain), 1u) << labels;

  // Again: reused, the same chain, nothing new.
  r = Berth(ns, {"images", "unpack", image_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "unpacking " + image_ + " (" + LayoutManifestDigest(layout_, "latest") + ")...done\n");
  EXPECT_EQ(CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out), snapshots);
  ExpectGreeting(ns, image_);

  // A collection while the image lives keeps its snapshots.
  r = Ctr(ns, {"images", "tag", image_, "extra:1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Berth(ns, {"images", "rm", "--sync", "extra:1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out), snapshots);
  // Removing the image collects them.
  r = Berth(ns, {"images", "rm", "--sync", image_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out), IsEmpty());
  EXPECT_EQ(Ctr(ns, {"content", "ls", "-q"}).out, "");
  // The source namespace still has its own.
  EXPECT_EQ(CommittedSnapshots(Ctr(Ns("src"), {"snapshots", "ls"}).out), snapshots);
}

TEST_F(ImageArchiveE2E, ImportCreatesEveryPlatformsImageAndUnpacksTheAskedOne) {
  // An archive naming two images: the test image for the host and one of another platform.
  auto two = MakeTwoPlatformLayout(layout_, "latest", dir_->path() / "two-platforms");
  ASSERT_FALSE(two.dir.empty());
  auto host = two.host_manifest, other = two.other_manifest;
  host["annotations"] = {{"io.containerd.image.name", "multi/host:1"}};
  other["annotations"] = {{"io.containerd.image.name", "multi/other:1"}};
  WriteLayoutIndex(two.dir, nlohmann::json::array({host, other}));
  const fs::path tar = dir_->path() / "two-platforms.tar";
  ASSERT_TRUE(TarLayout(two.dir, tar));
  const auto host_chain = CommittedSnapshots(Ctr(Ns("src"), {"snapshots", "ls"}).out);
  const std::string host_line = "unpacking multi/host:1 (" + host["digest"].get<std::string>() + ")...done\n";
  const std::string other_line = "unpacking multi/other:1 (" + other["digest"].get<std::string>() + ")...done\n";

  // As containerd: every image is created; only the host's is unpacked.
  const std::string ns = Ns("multi");
  auto r = Berth(ns, {"images", "import", tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, host_line);
  EXPECT_EQ(Berth(ns, {"images", "ls", "-q"}).out, "multi/host:1\nmulti/other:1\n");
  EXPECT_EQ(CommittedSnapshots(Ctr(ns, {"snapshots", "ls"}).out), host_chain);
  ExpectGreeting(ns, "multi/host:1");

  // --platform: the other one unpacked, both images still created.
  const std::string ns2 = Ns("multi-other");
  r = Berth(ns2, {"images", "import", "--platform", two.other_platform, tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, other_line);
  EXPECT_EQ(Berth(ns2, {"images", "ls", "-q"}).out, "multi/host:1\nmulti/other:1\n");
  EXPECT_EQ(CommittedSnapshots(Ctr(ns2, {"snapshots", "ls"}).out), std::set<std::string>{two.other_chain_id});

  // --all-platforms: every platform's content kept, the host's unpacked.
  const std::string ns3 = Ns("multi-all");
  r = Berth(ns3, {"images", "import", "--all-platforms", tar.string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << daemon_->Log();
  EXPECT_EQ(r.out, host_line);
  EXPECT_EQ(Berth(ns3, {"images", "ls", "-q"}).out, "multi/host:1\nmulti/other:1\n");
  EXPECT_THAT(Ctr(ns3, {"images", "check"}).out, HasSubstr("complete (4/4)"));
  EXPECT_EQ(CommittedSnapshots(Ctr(ns3, {"snapshots", "ls"}).out), host_chain);
}

}  // namespace
}  // namespace berth::e2e
