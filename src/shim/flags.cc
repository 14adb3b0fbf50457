#include "shim/flags.h"

#include <string_view>

namespace berth::shim {
namespace {

Result<bool> ParseBool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return InvalidArgument("invalid boolean value {:?}", v);
}

}  // namespace

Result<ShimFlags> ParseFlags(const std::vector<std::string>& args) {
  ShimFlags f;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // first positional: the action
    a.remove_prefix(a[1] == '-' ? 2 : 1);
    std::string_view name = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (name == "debug" || name == "v" || name == "version") {
      bool b = true;
      if (has_value) {
        BERTH_ASSIGN_OR_RETURN(b, ParseBool(value));
      }
      (name == "debug" ? f.debug : f.version) = b;
      continue;
    }
    std::string* target = nullptr;
    if (name == "namespace") target = &f.ns;
    else if (name == "address") target = &f.address;
    else if (name == "publish-binary") target = &f.publish_binary;
    else if (name == "id") target = &f.id;
    else if (name == "bundle") target = &f.bundle;
    else if (name == "socket") target = &f.socket;
    if (target == nullptr) return InvalidArgument("flag provided but not defined: -{}", name);
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidArgument("flag needs an argument: -{}", name);
      value = args[++i];
    }
    *target = std::string(value);
  }
  if (i < args.size()) f.action = args[i];
  return f;
}

}  // namespace berth::shim
