#include "client/unpack_plan.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "images/rootfs.h"

namespace berth::client {

Result<std::vector<UnpackLayer>> PlanUnpack(const std::vector<images::BlobDescriptor>& layers,
                                            const std::vector<std::string>& diff_ids) {
  if (layers.size() != diff_ids.size()) {
    return InvalidArgument("mismatched image rootfs and manifest layers: {} diff ids, {} layers",
                           diff_ids.size(), layers.size());
  }
  std::vector<std::string> chain = images::ChainIds(diff_ids);
  std::vector<UnpackLayer> out;
  out.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    out.push_back(UnpackLayer{layers[i], diff_ids[i], chain[i], i == 0 ? "" : chain[i - 1]});
  }
  return out;
}

std::string UnpackKey(std::string_view unique, std::string_view chain_id) {
  return fmt::format("extract-{} {}", unique, chain_id);
}

std::string UnpackUniquePart() {
  static constexpr char kBase64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1'000'000'000;
  std::random_device rd;
  uint32_t bits = rd() & 0xFFFFFFu;  // 3 bytes: exactly 4 base64 characters, no padding
  std::string suffix;
  for (int shift = 18; shift >= 0; shift -= 6) suffix += kBase64Url[(bits >> shift) & 0x3F];
  return fmt::format("{}-{}", nanos, suffix);
}

std::string GcRefSnapshotLabel(std::string_view snapshotter) {
  return fmt::format("containerd.io/gc.ref.snapshot.{}", snapshotter);
}

}  // namespace berth::client
