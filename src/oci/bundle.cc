#include "oci/bundle.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace berth::oci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr uintmax_t kMaxSpecSize = 4 << 20;
}  // namespace

Result<BundleSpec> LoadBundle(const std::string& bundle_path, const std::string& cgroup_path) {
  if (bundle_path.empty() || bundle_path.front() != '/') {
    return InvalidArgument("bundlePath {:?} must be an absolute path", bundle_path);
  }
  std::error_code ec;
  fs::path dir = fs::canonical(bundle_path, ec);
  if (ec || !fs::is_directory(dir, ec)) return NotFound("bundle not found: {}", bundle_path);
  fs::path config = dir / "config.json";
  if (!fs::is_regular_file(config, ec)) return NotFound("bundle not found: no config.json in {}", dir.string());
  // Read at most the limit (and one byte more to notice): a size from stat means nothing for
  // files such as /proc's, which a symlinked config.json could name.
  std::ifstream in(config, std::ios::binary);
  std::string text(kMaxSpecSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxSpecSize) return InvalidArgument("{} is larger than {} bytes", config.string(), kMaxSpecSize);
  json spec = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded() || !spec.is_object()) return InvalidArgument("{}: not a JSON object", config.string());
  auto process = spec.find("process");
  if (process == spec.end() || !process->is_object()) return InvalidArgument("{}: no process", config.string());
  auto args = process->find("args");
  if (args == process->end() || !args->is_array() || args->empty()) {
    return InvalidArgument("{}: process.args must be a non-empty array", config.string());
  }
  for (const auto& a : *args) {
    if (!a.is_string()) return InvalidArgument("{}: process.args must be strings", config.string());
  }
  auto root = spec.find("root");
  if (root == spec.end() || !root->is_object() || !root->contains("path") || !(*root)["path"].is_string()) {
    return InvalidArgument("{}: no root.path", config.string());
  }
  fs::path rootfs = (*root)["path"].get<std::string>();
  if (rootfs.is_relative()) rootfs = dir / rootfs;
  if (!fs::is_directory(rootfs, ec)) {
    return NotFound("bundle {}: root {} is not a directory", dir.string(), rootfs.string());
  }
  (*root)["path"] = rootfs.lexically_normal().string();
  // No cgroup named by the bundle: containerd's /<namespace>/<id>, so two containers of one
  // bundle never share one.
  if (!spec.contains("linux") || !spec["linux"].is_object()) spec["linux"] = json::object();
  json& linux = spec["linux"];
  if (!linux.contains("cgroupsPath") || !linux["cgroupsPath"].is_string() ||
      linux["cgroupsPath"].get<std::string>().empty()) {
    linux["cgroupsPath"] = cgroup_path;
  }
  try {
    auto terminal = process->find("terminal");
    return BundleSpec{dir.string(), spec.dump(), terminal != process->end() && *terminal == true};
  } catch (const json::exception&) {  // a path or string that is not UTF-8
    return InvalidArgument("bundle {}: its paths or {} are not valid UTF-8", dir.string(), config.string());
  }
}

}  // namespace berth::oci
