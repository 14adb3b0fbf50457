// The shim's owned fd type (the content store's header-only one).
#pragma once

#include "content/unique_fd.h"

namespace berth::shim {
using UniqueFd = content::UniqueFd;
}  // namespace berth::shim
