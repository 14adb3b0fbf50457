// Fuzz target: runtime spec generation from what an image supplies (berth_oci): the image
// config blob, and /etc/passwd and /etc/group of its root filesystem, as `berth run` /
// NewContainer and `berth bundle create` use them; plus an OCI bundle's config.json as the
// REST API's POST /containers/{id} loads it (oci::LoadBundle).
//
// Bytes: data[0] % 4 picks the path, the rest is the input:
//   0 config:  an image config JSON: ParseImageConfig, then GenerateSpec without a rootfs (numeric
//              users only) and the spec's JSON as the client sends it (ToJson(spec).dump()).
//   1 passwd:  "<passwd>\0<group>": ParsePasswd and ParseGroup.
//   2 rootfs:  "<config>\0<passwd>\0<group>": the two files written to <tmp>/rootfs/etc (a part
//              left out: the file is absent), then GenerateSpec with that rootfs.
//   3 bundle:  a bundle's config.json, in <tmp>/bundle beside its rootfs/: LoadBundle.
// Invariants:
//   - a config that parses gives a spec iff it has an entrypoint or cmd and its user resolves;
//     process.args = entrypoint + cmd, cwd = WorkingDir or "/", env = the config's (empty
//     entries dropped) or the default PATH; the user is what containerd's WithUser and
//     WithAdditionalGIDs make of USER and the rootfs's files (the primary gid among the
//     additional ones, every other one a group listing the user); the spec's JSON dumps (no
//     exception), parses back to the same document, and names the same args, cwd and user.
//   - passwd and group entries have ids in [0, INT32_MAX] and print back to lines that parse
//     to the same entries.
//   - a bundle that loads has a non-empty string array process.args, an absolute normal
//     root.path, a non-empty linux.cgroupsPath (the bundle's own, or /<ns>/<id>), the same
//     process object as the file, and its terminal flag is process.terminal.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "oci/bundle.h"
#include "oci/generate.h"
#include "oci/image_config.h"
#include "oci/spec.h"
#include "oci/user.h"

namespace {

namespace fs = std::filesystem;
using berth::Errc;
using namespace berth::oci;

constexpr const char* kNamespace = "default";
constexpr const char* kId = "fuzz";
constexpr uint32_t kMaxId = INT32_MAX;  // runc's limit, and ParseId's

// The temp dir this target owns: <tmp>/rootfs/etc and <tmp>/bundle/rootfs; removed at exit.
class Dirs {
 public:
  Dirs() {
    std::string tmpl = (fs::temp_directory_path() / "berth-fuzz-oci-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    std::error_code ec;
    fs::create_directories(dir_ / "rootfs" / "etc", ec);
    FUZZ_CHECK(!ec);
    fs::create_directories(dir_ / "bundle" / "rootfs", ec);
    FUZZ_CHECK(!ec);
  }
  ~Dirs() {
    std::error_code ec;
    fs::remove_all(dir_, ec);  // only what this target wrote: regular files and directories
  }
  Dirs(const Dirs&) = delete;
  Dirs& operator=(const Dirs&) = delete;

  fs::path rootfs() const { return dir_ / "rootfs"; }
  fs::path bundle() const { return dir_ / "bundle"; }

 private:
  fs::path dir_;
};

Dirs& TheDirs() {
  static Dirs dirs;
  return dirs;
}

// Writes `data` to `path`, or removes it when there is none.
void PutFile(const fs::path& path, const std::optional<std::string_view>& data) {
  if (!data) {
    FUZZ_CHECK(::unlink(path.c_str()) == 0 || errno == ENOENT);
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  FUZZ_CHECK(fd >= 0);
  std::string_view rest = *data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    FUZZ_CHECK(n > 0);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  FUZZ_CHECK(::close(fd) == 0);
}

// `s` cut at NUL bytes into at most `n` parts (the last one keeps any further NULs).
std::vector<std::string_view> Parts(std::string_view s, size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    size_t nul = s.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(s.substr(0, nul));
    s.remove_prefix(nul + 1);
  }
  out.push_back(s);
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// A uid or gid as USER takes one: decimal, 0 to INT32_MAX.
std::optional<uint32_t> Id(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > INT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

bool Contains(const std::vector<uint32_t>& v, uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// What containerd's WithUser + WithAdditionalGIDs make of `user` with these files; nullopt when
// the user cannot be resolved. Without files (`rootfs` false) names cannot be resolved.
std::optional<User> ExpectedUser(const std::string& user, bool rootfs, const std::vector<PasswdEntry>& passwd,
                                 const std::vector<GroupEntry>& groups) {
  User out;
  std::string group_user = "root";
  if (!user.empty()) {
    auto parts = Split(user, ':');
    if (parts.size() > 2) return std::nullopt;
    auto by_name = [&](const std::string& name) {
      return std::find_if(passwd.begin(), passwd.end(), [&](const PasswdEntry& e) { return e.name == name; });
    };
    if (auto uid = Id(parts[0])) {
      out.uid = *uid;
      if (parts.size() == 1 && rootfs) {
        auto it = std::find_if(passwd.begin(), passwd.end(), [&](const PasswdEntry& e) { return e.uid == *uid; });
        if (it != passwd.end()) out.gid = it->gid;
      }
    } else {
      if (!rootfs) return std::nullopt;
      auto it = by_name(parts[0]);
      if (it == passwd.end()) return std::nullopt;
      out.uid = it->uid;
      if (parts.size() == 1) out.gid = it->gid;
    }
    if (parts.size() == 2) {
      if (auto gid = Id(parts[1])) {
        out.gid = *gid;
      } else {
        if (!rootfs) return std::nullopt;
        auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) { return g.name == parts[1]; });
        if (it == groups.end()) return std::nullopt;
        out.gid = it->gid;
      }
    }
    group_user = std::to_string(out.uid);
  }
  if (rootfs) {
    std::string name = group_user;
    bool known = true;
    if (Id(group_user)) {
      auto it = std::find_if(passwd.begin(), passwd.end(),
                             [&](const PasswdEntry& e) { return std::to_string(e.uid) == group_user; });
      known = it != passwd.end();
      if (known) name = it->name;
    }
    if (known) {
      for (const auto& g : groups) {
        if (g.name != name && std::find(g.members.begin(), g.members.end(), name) != g.members.end()) {
          out.additional_gids.push_back(g.gid);
        }
      }
    }
  }
  if (!Contains(out.additional_gids, out.gid)) out.additional_gids.insert(out.additional_gids.begin(), out.gid);
  return out;
}

void CheckSpecJson(const Spec& spec) {
  const nlohmann::ordered_json doc = ToJson(spec);
  const std::string text = doc.dump();  // as NewContainer sends it: throws on invalid UTF-8
  const auto back = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!back.is_discarded());
  FUZZ_CHECK(back == doc);
  FUZZ_CHECK(back.dump() == text);
  // (at(): a key that is missing throws, which fails the target as loudly as a check)
  const auto& process = back.at("process");
  FUZZ_CHECK(process.at("args").get<std::vector<std::string>>() == spec.process.args);
  FUZZ_CHECK(process.at("cwd").get<std::string>() == spec.process.cwd);
  FUZZ_CHECK(process.at("user").at("uid").get<uint32_t>() == spec.process.user.uid);
  FUZZ_CHECK(process.at("user").at("gid").get<uint32_t>() == spec.process.user.gid);
  FUZZ_CHECK(back.at("linux").at("cgroupsPath").get<std::string>() == std::string("/") + kNamespace + "/" + kId);
  const std::string pretty = doc.dump(2);  // as `berth bundle create` writes config.json
  FUZZ_CHECK(nlohmann::ordered_json::parse(pretty, nullptr, false) == doc);
}

// GenerateSpec from `config_json` (with the rootfs's files when `passwd`/`group` are given).
void FuzzGenerate(std::string_view config_json, bool with_rootfs, const std::optional<std::string_view>& passwd,
                  const std::optional<std::string_view>& group) {
  auto config = ParseImageConfig(config_json);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().Is(Errc::kInvalidArgument));
    return;
  }
  SpecOptions options;
  options.namespace_name = kNamespace;
  options.id = kId;
  options.image = *config;
  if (with_rootfs) {
    PutFile(TheDirs().rootfs() / "etc" / "passwd", passwd);
    PutFile(TheDirs().rootfs() / "etc" / "group", group);
    options.rootfs = TheDirs().rootfs();
  }
  auto spec = GenerateSpec(options);

  std::vector<std::string> args = config->entrypoint;
  args.insert(args.end(), config->cmd.begin(), config->cmd.end());
  const auto users = passwd ? ParsePasswd(*passwd) : std::vector<PasswdEntry>{};
  const auto groups = group ? ParseGroup(*group) : std::vector<GroupEntry>{};
  const auto user = ExpectedUser(config->user, with_rootfs, users, groups);
  FUZZ_CHECK(spec.ok() == (!args.empty() && user.has_value()));
  if (!spec.ok()) {
    FUZZ_CHECK(spec.status().Is(Errc::kInvalidArgument) || spec.status().Is(Errc::kNotFound));
    return;
  }
  const Process& p = spec->process;
  FUZZ_CHECK(p.args == args);
  FUZZ_CHECK(p.cwd == (config->working_dir.empty() ? "/" : config->working_dir));
  std::vector<std::string> env;
  for (const auto& e : config->env) {
    if (!e.empty()) env.push_back(e);
  }
  if (config->env.empty()) env = {kDefaultPathEnv};
  FUZZ_CHECK(p.env == env);
  FUZZ_CHECK(p.user.uid == user->uid);
  FUZZ_CHECK(p.user.gid == user->gid);
  FUZZ_CHECK(p.user.additional_gids == user->additional_gids);
  FUZZ_CHECK(Contains(p.user.additional_gids, p.user.gid));
  CheckSpecJson(*spec);
}

void FuzzPasswdGroup(std::string_view passwd, std::string_view group) {
  const auto users = ParsePasswd(passwd);
  std::string printed;
  for (const auto& u : users) {
    FUZZ_CHECK(u.uid <= kMaxId && u.gid <= kMaxId);
    FUZZ_CHECK(u.name.find_first_of(":\n") == std::string::npos);
    printed += u.name + ":x:" + std::to_string(u.uid) + ":" + std::to_string(u.gid) + "::/:/bin/sh\n";
  }
  const auto users_back = ParsePasswd(printed);
  FUZZ_CHECK(users_back.size() == users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    FUZZ_CHECK(users_back[i].name == users[i].name && users_back[i].uid == users[i].uid &&
               users_back[i].gid == users[i].gid);
  }

  const auto groups = ParseGroup(group);
  printed.clear();
  for (const auto& g : groups) {
    FUZZ_CHECK(g.gid <= kMaxId);
    printed += g.name + ":x:" + std::to_string(g.gid) + ":";
    for (size_t i = 0; i < g.members.size(); ++i) printed += (i > 0 ? "," : "") + g.members[i];
    printed += "\n";
  }
  const auto groups_back = ParseGroup(printed);
  FUZZ_CHECK(groups_back.size() == groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    FUZZ_CHECK(groups_back[i].name == groups[i].name && groups_back[i].gid == groups[i].gid &&
               groups_back[i].members == groups[i].members);
  }
}

void FuzzBundle(std::string_view config_json) {
  const fs::path bundle = TheDirs().bundle();
  PutFile(bundle / "config.json", config_json);
  const std::string cgroup = std::string("/") + kNamespace + "/" + kId;
  auto loaded = LoadBundle(bundle.string(), cgroup);
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.status().Is(Errc::kInvalidArgument) || loaded.status().Is(Errc::kNotFound));
    return;
  }
  const auto original = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  const auto spec = nlohmann::json::parse(loaded->spec_json, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(original.is_object() && spec.is_object());
  // (at(): a key that is missing throws, which fails the target as loudly as a check)
  const auto& process = spec.at("process");
  FUZZ_CHECK(process == original.at("process"));
  const auto& args = process.at("args");
  FUZZ_CHECK(args.is_array() && !args.empty());
  for (const auto& a : args) FUZZ_CHECK(a.is_string());
  FUZZ_CHECK(loaded->terminal == (process.contains("terminal") && process.at("terminal") == true));
  FUZZ_CHECK(spec.at("root").at("path").is_string());
  const fs::path root = spec.at("root").at("path").get<std::string>();
  FUZZ_CHECK(root.is_absolute());
  FUZZ_CHECK(root == root.lexically_normal());
  const auto& cgroups_path = spec.at("linux").at("cgroupsPath");
  FUZZ_CHECK(cgroups_path.is_string() && !cgroups_path.get<std::string>().empty());
  const nlohmann::json* had = nullptr;  // the bundle's own cgroupsPath, when usable
  if (auto section = original.find("linux"); section != original.end() && section->is_object()) {
    if (auto path = section->find("cgroupsPath"); path != section->end() && path->is_string() &&
                                                !path->get<std::string>().empty()) {
      had = &*path;
    }
  }
  FUZZ_CHECK(cgroups_path == (had != nullptr ? *had : nlohmann::json(cgroup)));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  TheDirs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzGenerate(rest, /*with_rootfs=*/false, std::nullopt, std::nullopt);
      break;
    case 1: {
      auto parts = Parts(rest, 2);
      FuzzPasswdGroup(parts[0], parts.size() > 1 ? parts[1] : std::string_view());
      break;
    }
    case 2: {
      auto parts = Parts(rest, 3);
      std::optional<std::string_view> passwd, group;
      if (parts.size() > 1) passwd = parts[1];
      if (parts.size() > 2) group = parts[2];
      FuzzGenerate(parts[0], /*with_rootfs=*/true, passwd, group);
      break;
    }
    default:
      FuzzBundle(rest);
      break;
  }
  return 0;
}
