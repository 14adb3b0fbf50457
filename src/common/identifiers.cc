#include "common/identifiers.h"

namespace berth::identifiers {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

// ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$ without a regex engine on the hot path.
bool Matches(std::string_view s) {
  bool need_alnum = true;  // at start and right after a separator
  for (char c : s) {
    if (IsAlnum(c)) {
      need_alnum = false;
    } else if (IsSeparator(c) && !need_alnum) {
      need_alnum = true;
    } else {
      return false;
    }
  }
  return !need_alnum;
}

}  // namespace

Status Validate(std::string_view id) {
  if (id.empty()) return InvalidArgument("identifier must not be empty");
  if (id.size() > kMaxLength) {
    return InvalidArgument("identifier {:?} greater than maximum length ({} characters)", id,
                           kMaxLength);
  }
  if (!Matches(id)) {
    return InvalidArgument("identifier {:?} must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$",
                           id);
  }
  return Status::Ok();
}

}  // namespace berth::identifiers
