// Fuzz target: registry credentials as berth reads them (src/remotes/credentials.h). The input is
// the content of a docker config.json; it is written to a file in the target's own temp dir (never
// ~/.docker) and DockerConfigCredentials reads it for a fixed set of hosts (a bare host:port, an
// IP, localhost, Docker Hub under its three names, a host absent from any sane config). The same
// bytes are also read as a `--user` flag (ParseUserFlag) and as a base64 "auth" value.
//
// Invariants: a refusal is InvalidArgument (not JSON, or an auth value that is not base64
// "user:password"); reading is deterministic (a second read gives the same answer); a user flag
// yields a non-empty name without ':' and the rest after the first ':' as the secret; base64:
// Decode(Encode(x)) == x, and a decoded value re-encodes to text that decodes to it again.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "fuzz_check.h"
#include "remotes/base64.h"
#include "remotes/credentials.h"

namespace berth::remotes {
namespace {

// The target's temp dir (removed at exit) and the config file in it.
class TempConfig {
 public:
  TempConfig() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/berth-fuzz-creds-XXXXXX";
    FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    path_ = dir_ / "config.json";
  }
  ~TempConfig() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempConfig(const TempConfig&) = delete;
  TempConfig& operator=(const TempConfig&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

const TempConfig& Config() {
  static const TempConfig config;
  return config;
}

constexpr const char* kHosts[] = {"127.0.0.1:5000", "reg.example.com", "localhost", "docker.io",
                                  "index.docker.io", "registry-1.docker.io", "nowhere.invalid"};

bool Same(const Result<std::optional<Credentials>>& a, const Result<std::optional<Credentials>>& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.status().code() == b.status().code() && a.status().message() == b.status().message();
  if (a->has_value() != b->has_value()) return false;
  return !a->has_value() || ((*a)->username == (*b)->username && (*a)->secret == (*b)->secret);
}

void CheckDockerConfig(std::string_view bytes) {
  const std::filesystem::path& path = Config().path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    FUZZ_CHECK(out.good());
  }
  for (const char* host : kHosts) {
    Result<std::optional<Credentials>> creds = DockerConfigCredentials(path, host);
    if (!creds.ok()) FUZZ_CHECK(creds.status().code() == Errc::kInvalidArgument);
    FUZZ_CHECK(Same(creds, DockerConfigCredentials(path, host)));
  }
}

void CheckUserFlag(std::string_view bytes) {
  Result<Credentials> user = ParseUserFlag(bytes);
  if (!user.ok()) {
    FUZZ_CHECK(user.status().code() == Errc::kInvalidArgument);
    FUZZ_CHECK(bytes.empty() || bytes.front() == ':');
    return;
  }
  FUZZ_CHECK(!user->username.empty());
  FUZZ_CHECK(user->username.find(':') == std::string::npos);
  size_t colon = bytes.find(':');
  FUZZ_CHECK(user->username == bytes.substr(0, colon));
  FUZZ_CHECK(user->secret == (colon == std::string_view::npos ? std::string_view() : bytes.substr(colon + 1)));
}

void CheckBase64(std::string_view bytes) {
  std::optional<std::string> back = Base64Decode(Base64Encode(bytes));
  FUZZ_CHECK(back.has_value() && *back == bytes);
  if (std::optional<std::string> decoded = Base64Decode(bytes)) {
    std::optional<std::string> again = Base64Decode(Base64Encode(*decoded));
    FUZZ_CHECK(again.has_value() && *again == *decoded);
  }
}

}  // namespace
}  // namespace berth::remotes

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)berth::remotes::Config();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  berth::remotes::CheckDockerConfig(bytes);
  berth::remotes::CheckUserFlag(bytes);
  berth::remotes::CheckBase64(bytes);
  return 0;
}
