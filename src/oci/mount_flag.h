// ctr's --mount flag: "type=bind,src=/x,dst=/y,options=rbind:ro", a CSV record of key=value
// fields (type; source|src; destination|dst; options, ':'-separated).
#pragma once

#include <string_view>

#include "common/status.h"
#include "oci/spec.h"

namespace berth::oci {

// InvalidArgument for a field without '=', an unknown key, or bad quoting.
Result<Mount> ParseMountFlag(std::string_view flag);

}  // namespace berth::oci
