// Standard base64 (RFC 4648, with padding) for Basic authorization and docker config "auth".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::remotes {

std::string Base64Encode(std::string_view data);
// nullopt for characters outside the alphabet or a bad length; padding is optional.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace berth::remotes
