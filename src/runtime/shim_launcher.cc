#include "runtime/shim_launcher.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/logging.h"
#include "runtime/command.h"
#include "runtime/shim_options.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> LookPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return fs::absolute(p).string();
  }
  return std::nullopt;
}

std::optional<std::string> BesideSelf(const std::string& name) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  fs::path p = self.parent_path() / name;
  if (::access(p.c_str(), X_OK) == 0) return p.string();
  // The build tree keeps each executable in its own cmd/<name>/ directory.
  p = self.parent_path().parent_path() / name / name;
  if (::access(p.c_str(), X_OK) == 0) return p.string();
  return std::nullopt;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

}  // namespace

Result<std::string> ShimLauncher::Resolve(const std::string& runtime) const {
  if (runtime.empty()) return InvalidArgument("no runtime name");
  if (runtime[0] == '/') {
    if (::access(runtime.c_str(), X_OK) != 0) return NotFound("runtime binary {} not found", runtime);
    return runtime;
  }
  std::string name;
  if (IsRuncRuntime(runtime)) {
    name = config_.runc_shim.empty() ? std::string("berth-shim") : config_.runc_shim;
    if (name[0] == '/') return Resolve(name);
  } else {
    // io.containerd.NAME.VERSION -> containerd-shim-NAME-VERSION (containerd's BinaryName).
    std::vector<std::string> parts;
    std::stringstream ss(runtime);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    if (parts.size() < 4 || parts[0] != "io" || parts[1] != "containerd") {
      return InvalidArgument(
          "invalid runtime name {}, correct runtime name should be either format like "
          "`io.containerd.runc.v1` or a full path to the binary", runtime);
    }
    name = "containerd-shim-" + parts[parts.size() - 2] + "-" + parts.back();
  }
  if (auto p = BesideSelf(name)) return *p;
  if (auto p = LookPath(name)) return *p;
  return NotFound("runtime {} binary not installed \"{}\"", runtime, name);
}

std::vector<std::string> ShimLauncher::CommonArgs(const Bundle& bundle) const {
  return {"-namespace", bundle.ns, "-address", config_.grpc_address,
          "-publish-binary", config_.publish_binary, "-id", bundle.id};
}

Result<std::string> ShimLauncher::Start(const std::string& binary, const Bundle& bundle,
                                        const std::optional<google::protobuf::Any>& options) const {
  Command cmd;
  cmd.path = binary;
  cmd.args = CommonArgs(bundle);
  if (config_.debug) cmd.args.push_back("-debug");
  cmd.args.push_back("start");
  cmd.cwd = bundle.path;
  cmd.extra_env = {"TTRPC_ADDRESS=" + config_.ttrpc_address, "GOMAXPROCS=2"};
  if (options) cmd.stdin_data = options->SerializeAsString();
  BERTH_ASSIGN_OR_RETURN(CommandOutput out, RunCommand(cmd));
  if (out.exit_code != 0) {
    return Unavailable("start shim {} for {}: exit status {}: {}", binary, bundle.id, out.exit_code,
                       Trim(out.out + out.err));
  }
  std::string address = Trim(out.out);
  if (address.empty()) return Unavailable("shim {} printed no address", binary);
  return address;
}

Result<containerd::task::v2::DeleteResponse> ShimLauncher::CleanupDead(const std::string& binary,
                                                                       const Bundle& bundle) const {
  Command cmd;
  cmd.path = binary;
  cmd.args = CommonArgs(bundle);
  cmd.args.insert(cmd.args.end(), {"-bundle", bundle.path.string(), "delete"});
  cmd.cwd = bundle.path;
  cmd.extra_env = {"TTRPC_ADDRESS=" + config_.ttrpc_address};
  BERTH_ASSIGN_OR_RETURN(CommandOutput out, RunCommand(cmd));
  if (out.exit_code != 0) {
    return Unknown("shim delete for {}: exit status {}: {}", bundle.id, out.exit_code, Trim(out.err));
  }
  if (!out.err.empty()) log::Warn("cleanup warnings", {{"id", bundle.id}, {"output", Trim(out.err)}});
  containerd::task::v2::DeleteResponse resp;
  if (!resp.ParseFromString(out.out)) return Unknown("shim delete for {}: unreadable response", bundle.id);
  return resp;
}

}  // namespace berth::runtime
