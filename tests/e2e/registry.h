// Test images and a local registry for end-to-end tests: wraps scripts/mkimage (an OCI image
// layout built from Debian's static busybox, no network) and scripts/test-registry (Debian's
// docker-registry on 127.0.0.1, optional htpasswd basic auth; images pushed with skopeo).
//
//   TempDir tmp;
//   auto layout = BuildTestImage(tmp.path() / "img", {.tag = "v1", .layers = 2});
//   auto reg = TestRegistry::Start(tmp.path() / "registry");
//   ASSERT_TRUE(reg && reg->Push(layout, "v1", "busybox:v1"));
//   daemon_->Ctr({"images", "pull", "--plain-http", reg->Ref("busybox:v1")});
#pragma once

#include "harness.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace berth::e2e {

// The repository's scripts/ directory (BERTH_SOURCE_DIR env var overrides the build's).
std::filesystem::path ScriptsDir();

struct MkimageOptions {
  std::string tag = "latest";
  int layers = 1;                          // base root + (layers-1) small layers
  std::string greeting = "hello from berth";  // /hello.txt and /etc/greeting (plus "\n")
  int big_mb = 0;                          // > 0: a layer with /data/big.bin of M MiB random
  std::string compression = "gzip";        // gzip | zstd | none
  bool whiteout_test = false;              // whiteout + opaque-dir layers (see scripts/mkimage)
  bool special_files = false;              // owners, devices, links, xattrs layer (needs root)
};

// Runs scripts/mkimage --out `out` ...; returns `out`, or an empty path after ADD_FAILURE.
// `out` must not exist or be empty.
std::filesystem::path BuildTestImage(const std::filesystem::path& out, const MkimageOptions& opts = {});

// Manifest descriptor digest ("sha256:...") of `tag` in the layout's index.json ("" if absent).
std::string LayoutManifestDigest(const std::filesystem::path& layout, const std::string& tag);

// One blob of a layout: blobs/sha256/<hex> for "sha256:<hex>".
std::filesystem::path LayoutBlobPath(const std::filesystem::path& layout, const std::string& digest);

// Layer descriptors (mediaType, digest) of the manifest of `tag`.
std::vector<std::pair<std::string, std::string>> LayoutLayers(const std::filesystem::path& layout,
                                                              const std::string& tag);

class TestRegistry {
 public:
  using Credentials = std::pair<std::string, std::string>;  // user, password

  // Starts a registry keeping its state under `dir` (created if needed, emptied by the
  // destructor). Returns nullptr after ADD_FAILURE when it does not come up. The registry is
  // also stopped by a watchdog if this process dies.
  static std::unique_ptr<TestRegistry> Start(const std::filesystem::path& dir,
                                             std::optional<Credentials> basic_auth = {});
  ~TestRegistry();  // Stop()
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  // "127.0.0.1:PORT/" + repo_tag, e.g. for `ctr images pull --plain-http`.
  std::string Ref(const std::string& repo_tag) const { return host_ + "/" + repo_tag; }
  const std::optional<Credentials>& credentials() const { return auth_; }
  // "user:password" (for ctr --user / skopeo --creds), "" without auth.
  std::string UserColonPassword() const;
  const std::filesystem::path& dir() const { return dir_; }

  // Pushes image `tag` of an OCI layout as `repo_tag` (REPO:TAG), digests preserved.
  // On failure returns false and, if `error` is given, sets it to the script's output.
  bool Push(const std::filesystem::path& layout, const std::string& tag, const std::string& repo_tag,
            std::string* error = nullptr) const;

  std::string Log() const;  // the registry's log so far
  void Stop();              // idempotent

 private:
  TestRegistry() = default;
  std::filesystem::path dir_;
  std::string host_;
  std::optional<Credentials> auth_;
  bool running_ = false;
};

// The busybox test image in a loopback registry, shared by the tests of one suite: made on the
// first Ref() (or in SetUpTestSuite), gone with Reset() (TearDownTestSuite).
class SuiteImage {
 public:
  // "127.0.0.1:PORT/busybox:v1"; "" after ADD_FAILURE when the image or registry cannot be made.
  static std::string Ref(int layers = 1);
  static void Reset();

 private:
  static TempDir* dir_;
  static TestRegistry* registry_;
};

}  // namespace berth::e2e
