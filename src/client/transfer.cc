#include "client/transfer.h"

#include "images/walk.h"

namespace berth::client {

std::string TransferStateName(TransferState state, bool push) {
  switch (state) {
    case TransferState::kWaiting: return "waiting";
    case TransferState::kRunning: return push ? "uploading" : "downloading";
    case TransferState::kDone: return "done";
    case TransferState::kExists: return "exists";
    case TransferState::kMounted: return "mounted";
    case TransferState::kFailed: return "failed";
  }
  return "unknown";
}

namespace {
bool IsLayerType(const std::string& mt) {
  return mt.starts_with("application/vnd.oci.image.layer.") ||
         mt.starts_with("application/vnd.docker.image.rootfs.") ||
         mt == "application/vnd.docker.image.rootfs.diff.tar.gzip";
}
}  // namespace

std::string IngestRef(const std::string& media_type, const std::string& digest) {
  if (images::IsManifestType(media_type)) return "manifest-" + digest;
  if (images::IsIndexType(media_type)) return "index-" + digest;
  if (IsLayerType(media_type)) return "layer-" + digest;
  if (images::IsConfigType(media_type)) return "config-" + digest;
  return "unknown-" + digest;
}

}  // namespace berth::client
