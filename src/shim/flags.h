// The shim's command line, in Go's flag syntax as containerd passes it:
//   berth-shim -namespace NS -address ADDR -publish-binary BIN -id ID [-debug] [-bundle DIR]
//              [-socket PATH] start|delete
// `-flag value`, `-flag=value` and the `--` spellings are all accepted; a bool flag takes no
// value (or `=true`/`=false`). Parsing stops at the first argument that is not a flag: that is
// the action ("" = serve).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::shim {

struct ShimFlags {
  std::string ns;
  std::string address;         // the daemon's gRPC socket
  std::string publish_binary;  // containerd's -publish-binary (unused: events go over ttrpc)
  std::string id;
  std::string bundle;          // "" = the working directory
  std::string socket;          // serve on this path instead of the inherited fd 3
  bool debug = false;
  bool version = false;
  std::string action;          // "start", "delete" or "" (serve)
};

Result<ShimFlags> ParseFlags(const std::vector<std::string>& args);

}  // namespace berth::shim
