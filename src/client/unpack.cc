// UnpackImage: containerd 1.6's image.Unpack over rootfs.ApplyLayerWithOpts, through the
// snapshots, diff and content services.
#include "client/unpack.h"

#include "client/temp_lease.h"
#include "client/unpack_plan.h"
#include "common/logging.h"
#include "images/rootfs.h"

namespace berth::client {
namespace {

inline constexpr const char* kUncompressedLabel = "containerd.io/uncompressed";
// Keys tried when a prepared key is taken (a concurrent unpack with the same unique part).
inline constexpr int kPrepareAttempts = 8;

// rootfs.applyLayers for one layer whose parent is committed: prepare an extraction snapshot on
// the parent, apply the blob, check the diff id, commit under the chain id. The extraction
// snapshot is removed on any failure. kAlreadyExists when another unpack committed the chain
// id meanwhile (the caller treats that as reused).
Status ApplyLayer(Client& client, const std::string& snapshotter, const UnpackLayer& layer) {
  std::string key;
  Result<std::vector<Mount>> mounts = Unknown("not prepared");
  for (int attempt = 0; attempt < kPrepareAttempts; ++attempt) {
    key = UnpackKey(UnpackUniquePart(), layer.chain_id);
    mounts = client.PrepareSnapshot(snapshotter, key, layer.parent);
    if (mounts.ok() || !mounts.status().Is(Errc::kAlreadyExists)) break;
  }
  if (!mounts.ok()) {
    return mounts.status().Wrap(fmt::format("failed to prepare extraction snapshot {:?}", key));
  }

  Status failure = [&]() -> Status {
    auto applied = client.ApplyDiff(layer.blob, *mounts);
    if (!applied.ok()) {
      return applied.status().Wrap(fmt::format("failed to extract layer {}", layer.diff_id));
    }
    if (applied->digest != layer.diff_id) {
      return FailedPrecondition("wrong diff id calculated on extraction of layer {}: {}, want {}",
                                layer.blob.digest, applied->digest, layer.diff_id);
    }
    Status commit = client.CommitSnapshot(snapshotter, layer.chain_id, key);
    if (!commit.ok() && !commit.Is(Errc::kAlreadyExists)) {
      return commit.Wrap(fmt::format("failed to commit snapshot {}", key));
    }
    return commit;  // AlreadyExists: the extraction snapshot is still there, remove it below
  }();
  if (failure.ok()) return failure;
  if (!failure.Is(Errc::kAlreadyExists)) {
    log::Info("apply failure, attempting cleanup", {{"key", key}, {"error", failure.ToString()}});
  }
  if (Status rm = client.RemoveSnapshot(snapshotter, key); !rm.ok() && !rm.Is(Errc::kNotFound)) {
    log::Warn("extraction snapshot removal failed", {{"key", key}, {"error", rm.ToString()}});
  }
  return failure;
}

}  // namespace

Result<std::string> UnpackImage(Client& caller, const Image& image, const UnpackOptions& options) {
  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(caller));
  Client& client = lease.client();
  images::FetchBlob fetch = [&client](const images::BlobDescriptor& d) {
    return client.ReadContentBlob(d.digest);
  };
  auto manifest = images::ResolveManifest(image.target, options.platform, fetch);
  if (!manifest.ok()) {
    return manifest.status().Wrap(
        fmt::format("image {:?} for {}", image.name, images::FormatPlatform(options.platform)));
  }
  if (options.wait_for_blob) BERTH_RETURN_IF_ERROR(options.wait_for_blob(manifest->config.digest));
  auto config = fetch(manifest->config);
  if (!config.ok()) return config.status().Wrap(fmt::format("config of image {:?}", image.name));
  auto diff_ids = images::ConfigDiffIds(*config);
  if (!diff_ids.ok()) return diff_ids.status().Wrap(fmt::format("image {:?}", image.name));
  auto plan = PlanUnpack(manifest->layers, *diff_ids);
  if (!plan.ok())
    return plan.status().Wrap(fmt::format("failed to resolve rootfs of {:?}", image.name));

  const int count = static_cast<int>(plan->size());
  for (int i = 0; i < count; ++i) {
    const UnpackLayer& layer = (*plan)[static_cast<size_t>(i)];
    UnpackProgress progress{i, count, layer.blob.digest, false, false};
    if (options.progress) options.progress(progress);
    auto existing = client.StatSnapshot(options.snapshotter, layer.chain_id);
    bool applied = false;
    if (!existing.ok()) {
      if (!existing.status().Is(Errc::kNotFound)) {
        return existing.status().Wrap(fmt::format("failed to stat snapshot {}", layer.chain_id));
      }
      if (options.wait_for_blob) BERTH_RETURN_IF_ERROR(options.wait_for_blob(layer.blob.digest));
      Status st = ApplyLayer(client, options.snapshotter, layer);
      if (!st.ok() && !st.Is(Errc::kAlreadyExists)) return st;
      applied = st.ok();
    }
    if (applied) {
      // Set only once apply has verified the uncompressed digest.
      auto updated =
          client.UpdateContentLabels(layer.blob.digest, {{kUncompressedLabel, layer.diff_id}},
                                     {std::string("labels.") + kUncompressedLabel});
      if (!updated.ok()) return updated.status();
    }
    progress.reused = !applied;
    progress.done = true;
    if (options.progress) options.progress(progress);
  }

  const std::string chain_id = plan->empty() ? "" : plan->back().chain_id;
  if (!chain_id.empty()) {
    const std::string key = GcRefSnapshotLabel(options.snapshotter);
    auto updated =
        client.UpdateContentLabels(manifest->config.digest, {{key, chain_id}}, {"labels." + key});
    if (!updated.ok()) return updated.status();
  }
  return chain_id;
}

}  // namespace berth::client
