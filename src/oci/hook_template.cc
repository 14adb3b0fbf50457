#include "oci/hook_template.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace berth::oci {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A Go string literal: "..." with backslash escapes, or `...` raw.
Result<std::string> ParseStringLiteral(std::string_view lit, std::string_view action) {
  if (lit.size() >= 2 && lit.front() == '`' && lit.back() == '`') return std::string(lit.substr(1, lit.size() - 2));
  if (lit.size() < 2 || lit.front() != '"' || lit.back() != '"') {
    return InvalidArgument("template {{{{{}}}}}: annotation takes one quoted string", action);
  }
  std::string out;
  for (size_t i = 1; i + 1 < lit.size(); ++i) {
    char c = lit[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= lit.size()) return InvalidArgument("template {{{{{}}}}}: bad escape", action);
    char e = lit[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      default: return InvalidArgument("template {{{{{}}}}}: unsupported escape \\{}", action, e);
    }
  }
  return out;
}

Result<std::string> Evaluate(std::string_view action, const HookContext& ctx) {
  std::string_view body = TrimSpace(action);
  size_t name_end = 0;
  while (name_end < body.size() && !IsSpace(body[name_end])) ++name_end;
  std::string_view name = body.substr(0, name_end);
  std::string_view args = TrimSpace(body.substr(name_end));
  auto no_args = [&](std::string value) -> Result<std::string> {
    if (!args.empty()) return InvalidArgument("template {{{{{}}}}}: {} takes no arguments", action, name);
    return value;
  };
  if (name == "id") return no_args(ctx.id);
  if (name == "pid") return no_args(std::to_string(ctx.pid));
  if (name == "bundle") return no_args(ctx.bundle);
  if (name == "status") return no_args(ctx.status);
  if (name == "rootfs") {
    if (std::filesystem::path(ctx.root).is_absolute()) return no_args(ctx.root);
    return no_args((std::filesystem::path(ctx.bundle) / ctx.root).lexically_normal().string());
  }
  if (name == "annotation") {
    BERTH_ASSIGN_OR_RETURN(std::string key, ParseStringLiteral(args, action));
    auto it = ctx.annotations.find(key);
    return it == ctx.annotations.end() ? std::string() : it->second;
  }
  return InvalidArgument("template {{{{{}}}}}: function {:?} not defined", action, name);
}

}  // namespace

Result<HookContext> LoadHookContext(std::string_view state_json) {
  auto state = nlohmann::json::parse(state_json, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object()) return InvalidArgument("the container state on stdin is not a JSON object");
  HookContext ctx;
  try {
    ctx.id = state.value("id", "");
    ctx.pid = state.value("pid", 0);
    ctx.bundle = state.value("bundle", "");
    ctx.status = state.value("status", "");
    if (auto a = state.find("annotations"); a != state.end() && a->is_object()) {
      for (const auto& [k, v] : a->items()) {
        if (v.is_string()) ctx.annotations[k] = v.get<std::string>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("container state: {}", e.what());
  }
  std::filesystem::path config = std::filesystem::path(ctx.bundle) / "config.json";
  std::ifstream in(config);
  if (!in) return ErrnoStatus(fmt::format("open {}", config.string()), errno);
  std::stringstream ss;
  ss << in.rdbuf();
  auto spec = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!spec.is_object()) return InvalidArgument("{} is not a JSON object", config.string());
  if (auto root = spec.find("root"); root != spec.end() && root->is_object()) {
    if (auto p = root->find("path"); p != root->end() && p->is_string()) ctx.root = p->get<std::string>();
  }
  return ctx;
}

Result<std::string> RenderHookTemplate(std::string_view source, const HookContext& ctx) {
  std::string out;
  size_t pos = 0;
  while (pos < source.size()) {
    size_t open = source.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(source.substr(pos));
      break;
    }
    size_t close = source.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument("template {:?}: unclosed action", std::string(source));
    }
    std::string_view text = source.substr(pos, open - pos);
    std::string_view action = source.substr(open + 2, close - open - 2);
    size_t next = close + 2;
    // Go's trim markers: "{{- " trims the space before, " -}}" the space after.
    if (action.size() >= 2 && action[0] == '-' && IsSpace(action[1])) {
      while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
      action.remove_prefix(1);
    }
    bool trim_after = action.size() >= 2 && action.back() == '-' && IsSpace(action[action.size() - 2]);
    if (trim_after) action.remove_suffix(1);
    out.append(text);
    BERTH_ASSIGN_OR_RETURN(std::string value, Evaluate(action, ctx));
    out.append(value);
    if (trim_after) {
      while (next < source.size() && IsSpace(source[next])) ++next;
    }
    pos = next;
  }
  return out;
}

Status RenderHookTemplates(std::vector<std::string>& items, const HookContext& ctx) {
  for (std::string& s : items) {
    if (s.find("{{") == std::string::npos) continue;
    BERTH_ASSIGN_OR_RETURN(s, RenderHookTemplate(s, ctx));
  }
  return Status::Ok();
}

}  // namespace berth::oci
