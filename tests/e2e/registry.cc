#include "registry.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"

#ifndef BERTH_SOURCE_DIR
#error "BERTH_SOURCE_DIR must be defined (tests/CMakeLists.txt)"
#endif

namespace berth::e2e {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<nlohmann::json> ReadJson(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<nlohmann::json> ManifestOf(const fs::path& layout, const std::string& tag) {
  auto digest = LayoutManifestDigest(layout, tag);
  if (digest.empty()) return std::nullopt;
  return ReadJson(LayoutBlobPath(layout, digest));
}

}  // namespace

fs::path ScriptsDir() {
  const char* env = std::getenv("BERTH_SOURCE_DIR");
  fs::path src = env != nullptr && *env != '\0' ? fs::path(env) : fs::path(BERTH_SOURCE_DIR);
  return src / "scripts";
}

fs::path BuildTestImage(const fs::path& out, const MkimageOptions& opts) {
  std::vector<std::string> argv = {(ScriptsDir() / "mkimage").string(), "--out", out.string(),
                                   "--tag", opts.tag, "--layers", std::to_string(opts.layers),
                                   "--greeting", opts.greeting, "--compression", opts.compression};
  if (opts.big_mb > 0) {
    argv.insert(argv.end(), {"--big-mb", std::to_string(opts.big_mb)});
  }
  if (opts.whiteout_test) argv.emplace_back("--whiteout-test");
  if (opts.special_files) argv.emplace_back("--special-files");
  auto r = Run(argv, 300s);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "scripts/mkimage failed: " << Describe(r);
    return {};
  }
  return out;
}

std::string LayoutManifestDigest(const fs::path& layout, const std::string& tag) {
  auto index = ReadJson(layout / "index.json");
  if (!index || !index->contains("manifests")) return "";
  for (const auto& m : (*index)["manifests"]) {
    auto ann = m.find("annotations");
    if (ann == m.end() || !ann->is_object()) continue;
    auto name = ann->find("org.opencontainers.image.ref.name");
    if (name != ann->end() && name->is_string() && name->get<std::string>() == tag) {
      return m.value("digest", "");
    }
  }
  return "";
}

fs::path LayoutBlobPath(const fs::path& layout, const std::string& digest) {
  auto colon = digest.find(':');
  if (colon == std::string::npos) return layout / "blobs" / "sha256" / digest;
  return layout / "blobs" / digest.substr(0, colon) / digest.substr(colon + 1);
}

std::vector<std::pair<std::string, std::string>> LayoutLayers(const fs::path& layout, const std::string& tag) {
  std::vector<std::pair<std::string, std::string>> out;
  auto manifest = ManifestOf(layout, tag);
  if (!manifest || !manifest->contains("layers")) return out;
  for (const auto& l : (*manifest)["layers"]) {
    out.emplace_back(l.value("mediaType", ""), l.value("digest", ""));
  }
  return out;
}

// ---- TestRegistry ----

std::unique_ptr<TestRegistry> TestRegistry::Start(const fs::path& dir, std::optional<Credentials> basic_auth) {
  std::vector<std::string> argv = {(ScriptsDir() / "test-registry").string(), "start", dir.string(),
                                   "--owner-pid", std::to_string(::getpid())};
  if (basic_auth) argv.insert(argv.end(), {"--htpasswd", basic_auth->first + ":" + basic_auth->second});
  auto r = Run(argv, 60s);
  std::string host = Trim(r.out);
  if (r.exit_code != 0 || host.rfind("127.0.0.1:", 0) != 0) {
    ADD_FAILURE() << "scripts/test-registry start failed: " << Describe(r);
    // Whatever it left behind.
    Run({(ScriptsDir() / "test-registry").string(), "stop", dir.string()}, 30s);
    return nullptr;
  }
  std::unique_ptr<TestRegistry> reg(new TestRegistry());
  reg->dir_ = dir;
  reg->host_ = host;
  reg->auth_ = std::move(basic_auth);
  reg->running_ = true;
  return reg;
}

TestRegistry::~TestRegistry() { Stop(); }

void TestRegistry::Stop() {
  if (!running_) return;
  running_ = false;
  auto r = Run({(ScriptsDir() / "test-registry").string(), "stop", dir_.string()}, 30s);
  if (r.exit_code != 0) ADD_FAILURE() << "scripts/test-registry stop failed: " << Describe(r);
}

std::string TestRegistry::UserColonPassword() const {
  return auth_ ? auth_->first + ":" + auth_->second : std::string();
}

bool TestRegistry::Push(const fs::path& layout, const std::string& tag, const std::string& repo_tag,
                        std::string* error) const {
  auto r = Run({(ScriptsDir() / "test-registry").string(), "push", dir_.string(), layout.string(), tag, repo_tag},
               300s);
  if (r.exit_code != 0) {
    if (error != nullptr) *error = Describe(r);
    return false;
  }
  return true;
}

std::string TestRegistry::Log() const { return Slurp(dir_ / "registry.log"); }

TempDir* SuiteImage::dir_ = nullptr;
TestRegistry* SuiteImage::registry_ = nullptr;

std::string SuiteImage::Ref(int layers) {
  if (registry_ == nullptr) {
    if (dir_ == nullptr) dir_ = new TempDir();
    auto layout = BuildTestImage(dir_->path() / "img", {.tag = "v1", .layers = layers});
    if (layout.empty()) return "";
    auto registry = TestRegistry::Start(dir_->path() / "registry");
    if (!registry || !registry->Push(layout, "v1", "busybox:v1")) {
      ADD_FAILURE() << "cannot push the test image";
      return "";
    }
    registry_ = registry.release();
  }
  return registry_->Ref("busybox:v1");
}

void SuiteImage::Reset() {
  delete registry_;
  registry_ = nullptr;
  delete dir_;
  dir_ = nullptr;
}

}  // namespace berth::e2e
