#include "server/config.h"

#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/identifiers.h"

namespace berth::server {
namespace {

template <typename T>
Status Read(const toml::table& table, std::string_view key, std::string_view where, T* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  if constexpr (std::is_same_v<T, int64_t>) {
    auto v = node->value<int64_t>();
    if (!v) return InvalidArgument("{}: {} must be an integer", where, key);
    *out = *v;
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    auto v = node->value<std::string>();
    if (!v) return InvalidArgument("{}: {} must be a string", where, key);
    *out = *v;
  } else {
    auto v = node->value<std::string>();
    if (!v) return InvalidArgument("{}: {} must be a string", where, key);
    *out = *v;
  }
  return Status::Ok();
}

Status CheckKeys(const toml::table& table, std::string_view where,
                 const std::set<std::string_view>& known) {
  for (const auto& [key, node] : table) {
    if (!known.contains(key.str())) {
      return InvalidArgument("{}: unknown key {:?}", where, key.str());
    }
  }
  return Status::Ok();
}

Result<const toml::table*> Section(const toml::table& root, std::string_view name,
                                   std::string_view origin) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return static_cast<const toml::table*>(nullptr);
  const toml::table* t = node->as_table();
  if (t == nullptr) return InvalidArgument("{}: [{}] must be a table", origin, name);
  return t;
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin, Config base) {
  toml::table root;
  try {
    // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& err) {
    return InvalidArgument("{}:{}:{}: {}", origin, err.source().begin.line,
                           err.source().begin.column, err.description());
  }
  Config c = std::move(base);
  BERTH_RETURN_IF_ERROR(CheckKeys(root, origin, {"version", "root", "state", "instance_id", "grpc", "debug", "runtime"}));
  BERTH_RETURN_IF_ERROR(Read(root, "root", origin, &c.root));
  BERTH_RETURN_IF_ERROR(Read(root, "state", origin, &c.state));
  BERTH_RETURN_IF_ERROR(Read(root, "instance_id", origin, &c.instance_id));
  if (const toml::node* v = root.get("version"); v != nullptr && v->value<int64_t>().value_or(0) != 1) {
    return InvalidArgument("{}: version must be 1", origin);
  }

  BERTH_ASSIGN_OR_RETURN(const toml::table* grpc, Section(root, "grpc", origin));
  if (grpc != nullptr) {
    std::string where = fmt::format("{}: [grpc]", origin);
    BERTH_RETURN_IF_ERROR(CheckKeys(*grpc, where, {"address", "max_recv_message_size", "max_send_message_size"}));
    BERTH_RETURN_IF_ERROR(Read(*grpc, "address", where, &c.address));
    BERTH_RETURN_IF_ERROR(Read(*grpc, "max_recv_message_size", where, &c.max_recv_message_size));
    BERTH_RETURN_IF_ERROR(Read(*grpc, "max_send_message_size", where, &c.max_send_message_size));
  }
  BERTH_ASSIGN_OR_RETURN(const toml::table* rt, Section(root, "runtime", origin));
  if (rt != nullptr) {
    std::string where = fmt::format("{}: [runtime]", origin);
    BERTH_RETURN_IF_ERROR(CheckKeys(*rt, where, {"shim"}));
    BERTH_RETURN_IF_ERROR(Read(*rt, "shim", where, &c.runc_shim));
  }
  BERTH_ASSIGN_OR_RETURN(const toml::table* debug, Section(root, "debug", origin));
  if (debug != nullptr) {
    std::string where = fmt::format("{}: [debug]", origin);
    BERTH_RETURN_IF_ERROR(CheckKeys(*debug, where, {"level"}));
    BERTH_RETURN_IF_ERROR(Read(*debug, "level", where, &c.log_level));
  }
  return c;
}

Result<Config> LoadConfigFile(const std::filesystem::path& path, Config base) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("config file {}", path.string());
  std::string text;
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return ErrnoStatus(fmt::format("open {}", path.string()), errno);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  return ParseConfig(text, path.string(), std::move(base));
}

Status Validate(Config& c) {
  namespace fs = std::filesystem;
  auto absolute = [](fs::path& p, std::string_view what) -> Status {
    if (p.empty()) return InvalidArgument("{} must not be empty", what);
    p = fs::absolute(p).lexically_normal();
    return Status::Ok();
  };
  BERTH_RETURN_IF_ERROR(absolute(c.root, "root"));
  BERTH_RETURN_IF_ERROR(absolute(c.state, "state"));
  std::string addr = c.address.string();
  if (addr.starts_with("unix://")) c.address = addr.substr(7);
  BERTH_RETURN_IF_ERROR(absolute(c.address, "grpc.address"));
  if (c.root == c.state) return InvalidArgument("root and state must be different directories");
  // sockaddr_un.sun_path holds 108 bytes including the terminator.
  if (c.address.string().size() > 107) {
    return InvalidArgument("grpc.address {} is longer than a unix socket path may be (107 bytes)",
                           c.address.string());
  }
  if (c.max_recv_message_size <= 0 || c.max_send_message_size <= 0) {
    return InvalidArgument("grpc message sizes must be positive");
  }
  BERTH_RETURN_IF_ERROR(identifiers::Validate(c.instance_id).Wrap("instance_id"));
  return Status::Ok();
}

}  // namespace berth::server
