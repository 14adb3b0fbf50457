#include "snapshots/types.h"

namespace berth::snapshots {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kView: return "view";
    case Kind::kActive: return "active";
    case Kind::kCommitted: return "committed";
    case Kind::kUnknown: break;
  }
  return "unknown";
}

}  // namespace berth::snapshots
