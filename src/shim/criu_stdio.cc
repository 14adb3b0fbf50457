#include "shim/criu_stdio.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "shim/runtime_options.h"

namespace berth::shim {
namespace {

// Written beside, then renamed over: a reader sees the old or the new file, never half. Not
// synced: bundle files are volatile state, and PrepareCriuConfig is on the create path.
Status WriteAtomic(const std::string& path, std::string_view data) {
  return files::WriteAtomic(path, data, files::Sync::kNo);
}

std::string StdioPath(const std::string& p) { return p.rfind("file://", 0) == 0 ? p.substr(7) : p; }

int MountIdOf(int pid, int fd) {
  std::ifstream in(fmt::format("/proc/{}/fdinfo/{}", pid, fd));
  std::string key;
  int value = -1;
  while (in >> key) {
    if (key == "mnt_id:") {
      in >> value;
      return value;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return -1;
}

}  // namespace

Result<bool> PrepareCriuConfig(const std::string& bundle) {
  const std::string config = bundle + "/config.json";
  BERTH_ASSIGN_OR_RETURN(std::string text, files::ReadSmall(config, kSpecLimit));
  auto spec = nlohmann::json::parse(text, nullptr, false);
  if (!spec.is_object()) return InvalidArgument("{}: not a JSON object", config);
  auto& ann = spec["annotations"];
  if (!ann.is_object()) ann = nlohmann::json::object();
  if (ann.contains(kCriuConfigAnnotation)) return false;
  const std::string conf = bundle + "/" + kCriuConfigFile;
  BERTH_RETURN_IF_ERROR(WriteAtomic(conf, ""));
  ann[kCriuConfigAnnotation] = conf;
  BERTH_RETURN_IF_ERROR(WriteAtomic(config, spec.dump()));
  return true;
}

StdioKeys ExternalStdio(int pid, const StdioPaths& paths) {
  StdioKeys keys;
  const std::string named[3] = {StdioPath(paths.in), StdioPath(paths.out), StdioPath(paths.err)};
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st{};
    if (::stat(fmt::format("/proc/{}/fd/{}", pid, fd).c_str(), &st) != 0) continue;
    if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)) continue;
    bool ours = false;
    for (const auto& p : named) {
      struct stat ps{};
      if (!p.empty() && ::stat(p.c_str(), &ps) == 0 && ps.st_dev == st.st_dev && ps.st_ino == st.st_ino) ours = true;
    }
    if (!ours) continue;
    const int mnt = MountIdOf(pid, fd);
    if (mnt < 0) continue;
    keys[fd] = StdioKey{fmt::format("file[{:x}:{:x}]", mnt, static_cast<uint64_t>(st.st_ino)), S_ISFIFO(st.st_mode),
                       static_cast<uint32_t>(st.st_mode)};
  }
  return keys;
}

Status WriteDumpConfig(const std::string& bundle, const StdioKeys& keys) {
  std::string conf;
  for (const auto& [fd, k] : keys) conf += fmt::format("external {}\n", k.key);
  return WriteAtomic(bundle + "/" + kCriuConfigFile, conf);
}

Status WriteRestoreConfig(const std::string& bundle, const StdioKeys& keys) {
  std::string conf;
  for (const auto& [fd, k] : keys) conf += fmt::format("inherit-fd fd[{}]:{}\n", fd, k.key);
  return WriteAtomic(bundle + "/" + kCriuConfigFile, conf);
}

void ClearCriuConfig(const std::string& bundle) { WriteAtomic(bundle + "/" + kCriuConfigFile, "").IgnoreError(); }

Status SaveStdioKeys(const std::string& image_dir, const StdioKeys& keys) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [fd, k] : keys) j[std::to_string(fd)] = {{"key", k.key}, {"fifo", k.fifo}, {"mode", k.mode}};
  return WriteAtomic(image_dir + "/" + kStdioKeysFile, j.dump());
}

Result<StdioKeys> LoadStdioKeys(const std::string& image_dir) {
  const std::string path = image_dir + "/" + kStdioKeysFile;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return NotFound("{}", path);
  BERTH_ASSIGN_OR_RETURN(std::string text, files::ReadSmall(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgument("{}: not a JSON object", path);
  StdioKeys keys;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    if (!v.is_object() || !v.contains("key") || !v["key"].is_string() ||
        (it.key() != "0" && it.key() != "1" && it.key() != "2")) {
      return InvalidArgument("{}: bad entry {:?}", path, it.key());
    }
    std::string key = v["key"].get<std::string>();
    // criu parses it as an option: only what ExternalStdio writes.
    if (key.rfind("file[", 0) != 0 || key.back() != ']' ||
        key.find_first_not_of("file[]:0123456789abcdef") != std::string::npos) {
      return InvalidArgument("{}: bad key {:?}", path, key);
    }
    keys[std::stoi(it.key())] = StdioKey{std::move(key), v.value("fifo", false), v.value("mode", uint32_t{0})};
  }
  return keys;
}

}  // namespace berth::shim
