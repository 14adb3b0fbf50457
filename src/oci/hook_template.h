// `berthd oci-hook -- CMD ARGS...`, containerd's `oci-hook`: an OCI hook whose arguments (and
// environment) carry templates filled from the container's state, which the runtime writes to
// the hook's stdin. Templates are Go text/template actions over containerd's functions:
// {{id}}, {{pid}}, {{bundle}}, {{rootfs}} (the spec's root.path, made absolute against the
// bundle), {{status}}, {{annotation "KEY"}}; `{{-` / `-}}` trim the space beside them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::oci {

struct HookContext {
  std::string id;
  int pid = 0;
  std::string bundle;
  std::string status;
  std::map<std::string, std::string> annotations;
  std::string root;  // the spec's root.path (relative to the bundle unless absolute)
};

// The OCI state JSON (stdin of a hook) and the bundle's config.json. InvalidArgument on
// malformed JSON; NotFound/errno when config.json cannot be read.
Result<HookContext> LoadHookContext(std::string_view state_json);

// One string with its templates rendered. InvalidArgument naming the action for an unknown
// function, a bad argument or an unclosed action.
Result<std::string> RenderHookTemplate(std::string_view source, const HookContext& ctx);

// Every string rendered (arguments, then the environment, as containerd does).
Status RenderHookTemplates(std::vector<std::string>& items, const HookContext& ctx);

}  // namespace berth::oci
