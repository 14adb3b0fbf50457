// Test images of two platforms in one OCI layout: the host's (a copy of a scripts/mkimage
// layout's manifest) and another one (its own one-layer manifest whose config says the other
// architecture and carries the label berth.test.platform=<platform>), for tests of what is
// resolved, imported and unpacked per platform.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace berth::e2e {

struct TwoPlatformLayout {
  std::filesystem::path dir;       // the layout; its index.json is the caller's to write
  nlohmann::json host_manifest;    // descriptor with a platform, as index.json lists it
  nlohmann::json other_manifest;   // likewise
  std::string other_platform;      // "linux/arm64" (or "linux/amd64" on an arm64 host)
  std::string other_chain_id;      // the other image's top snapshot: its one layer's diff id
};

// Copies `layout` (its `tag`) to `out` and adds the other platform's manifest. Empty `dir`
// after ADD_FAILURE.
TwoPlatformLayout MakeTwoPlatformLayout(const std::filesystem::path& layout, const std::string& tag,
                                        const std::filesystem::path& out);

// Writes the layout's index.json listing `manifests`.
void WriteLayoutIndex(const std::filesystem::path& layout, const nlohmann::json& manifests);

// Writes `data` as a blob of the layout; returns its descriptor (digest, size, `media_type`).
nlohmann::json WriteBlob(const std::filesystem::path& layout, const std::string& media_type,
                         const std::string& data);

// Tars the layout to `tar`; false after ADD_FAILURE.
bool TarLayout(const std::filesystem::path& layout, const std::filesystem::path& tar);

}  // namespace berth::e2e
