// `berthd oci-hook -- CMD ARGS...`: containerd's `oci-hook` (see oci/hook_template.h). Reads
// the container state from stdin, renders the templates in ARGS and the environment, then
// execs CMD (an absolute path, as Go's syscall.Exec takes it). Returns only on failure.
#pragma once

#include <string>
#include <vector>

namespace berthd {

int RunOciHook(std::vector<std::string> args);

}  // namespace berthd
