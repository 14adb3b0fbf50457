// Push: walk the image in the store, send the leaves in parallel (exists / mount / upload),
// then the manifests bottom-up, the root under the tag.
#include "client/push.h"

#include <atomic>
#include <mutex>
#include <set>

#include "client/content_stream.h"
#include "client/pull.h"
#include "client/worker_pool.h"
#include "common/logging.h"
#include "images/distribution_source.h"
#include "remotes/reference.h"

namespace berth::client {
namespace {

using images::BlobDescriptor;

class Pusher {
 public:
  Pusher(Client& client, remotes::Registry& registry, const remotes::Reference& ref, const PushOptions& options)
      : client_(client), registry_(registry), ref_(ref), options_(options) {}

  Result<PushResult> Run(const Image& image) {
    const BlobDescriptor& root = image.target;
    BERTH_RETURN_IF_ERROR(Walk(root, 0));
    BERTH_RETURN_IF_ERROR(PushLeaves());
    // Manifests were collected parents first; push children first.
    for (auto it = manifests_.rbegin(); it != manifests_.rend(); ++it) {
      const bool is_root = it->first.digest == root.digest;
      const std::string object = is_root && !ref_.tag.empty() ? ref_.tag : it->first.digest;
      TransferProgress p{IngestRef(it->first.media_type, it->first.digest), it->first.media_type,
                         it->first.digest, it->first.size, 0, 0, TransferState::kRunning};
      Report(p);
      Status st = registry_.PushManifest(ref_.path, object, it->first.media_type, it->second);
      if (!st.ok()) {
        p.state = TransferState::kFailed;
        Report(p);
        return st.Wrap(fmt::format("failed to push {}", it->first.digest));
      }
      uploaded_ += static_cast<int64_t>(it->second.size());
      p.offset = it->first.size;
      p.state = TransferState::kDone;
      Report(p);
    }
    PushResult result;
    result.target = image.target;
    result.uploaded = uploaded_;
    result.total = total_;
    return result;
  }

 private:
  void Report(const TransferProgress& p) {
    if (!options_.progress) return;
    std::lock_guard lock(progress_mu_);
    options_.progress(p);
  }

  Status Walk(const BlobDescriptor& desc, int depth) {
    if (!seen_.insert(desc.digest).second) return Status::Ok();
    total_ += desc.size;
    if (!images::IsIndexType(desc.media_type) && !images::IsManifestType(desc.media_type)) {
      leaves_.push_back(desc);
      return Status::Ok();
    }
    if (depth > 8) return InvalidArgument("{}: indexes nested too deeply", desc.digest);
    auto blob = client_.ReadContentBlob(desc.digest, 4 << 20);
    if (!blob.ok()) return blob.status().Wrap(fmt::format("failed to read {} {}", desc.media_type, desc.digest));
    manifests_.emplace_back(desc, *blob);
    BERTH_ASSIGN_OR_RETURN(auto children, images::Children(desc, *blob));
    for (const auto& ch : children) {
      if (options_.platform && images::IsIndexType(desc.media_type) && images::IsManifestType(ch.media_type) &&
          ch.platform && !images::MatchPlatform(*options_.platform, images::NormalizePlatform(*ch.platform))) {
        continue;
      }
      BERTH_RETURN_IF_ERROR(Walk(ch, depth + 1));
    }
    return Status::Ok();
  }

  // Repositories of this registry the blob was pulled from (its distribution source label).
  std::vector<std::string> MountSources(const std::string& digest) {
    std::vector<std::string> out;
    auto info = client_.GetContentInfo(digest);
    if (!info.ok()) return out;
    for (auto& repo : images::DistributionSources(info->labels, ref_.domain)) {
      if (repo != ref_.path) out.push_back(std::move(repo));
    }
    return out;
  }

  Status PushLeaf(const BlobDescriptor& desc) {
    TransferProgress p{IngestRef(desc.media_type, desc.digest), desc.media_type, desc.digest, desc.size, 0, 0,
                       TransferState::kRunning};
    BERTH_ASSIGN_OR_RETURN(bool exists, registry_.BlobExists(ref_.path, desc.digest));
    if (exists) {
      p.offset = desc.size;
      p.state = TransferState::kExists;
      Report(p);
      return Status::Ok();
    }
    for (const auto& from : MountSources(desc.digest)) {
      auto mounted = registry_.MountBlob(ref_.path, from, desc.digest);
      if (mounted.ok() && *mounted) {
        p.offset = desc.size;
        p.state = TransferState::kMounted;
        Report(p);
        return Status::Ok();
      }
      if (!mounted.ok()) {
        log::Debug("cross-repository mount failed", {{"digest", desc.digest}, {"from", from},
                                                      {"error", mounted.status().ToString()}});
      }
    }
    Report(p);
    auto last_report = std::chrono::steady_clock::now();
    // A retried upload starts the source over.
    std::unique_ptr<ContentReader> reader;
    auto source = [&](std::span<char> buf) -> Result<size_t> {
      if (failed_.load()) return Status(Errc::kCanceled, "another upload failed");
      if (!reader) {
        auto opened = ContentReader::Open(client_, desc.digest);
        if (!opened.ok()) return opened.status();
        reader = std::move(*opened);
        p.offset = 0;
      }
      BERTH_ASSIGN_OR_RETURN(size_t n, reader->Read(buf));
      if (n == 0) reader.reset();
      uploaded_ += static_cast<int64_t>(n);
      p.offset += static_cast<int64_t>(n);
      auto now = std::chrono::steady_clock::now();
      if (now - last_report >= std::chrono::milliseconds(50)) {
        last_report = now;
        Report(p);
      }
      return n;
    };
    Status st = registry_.PushBlob(ref_.path, desc, source, options_.chunk_size);
    if (!st.ok()) {
      p.state = TransferState::kFailed;
      Report(p);
      return st.Wrap(fmt::format("failed to push {}", desc.digest));
    }
    p.offset = desc.size;
    p.state = TransferState::kDone;
    Report(p);
    return Status::Ok();
  }

  Status PushLeaves() {
    for (const auto& d : leaves_) {
      Report({IngestRef(d.media_type, d.digest), d.media_type, d.digest, d.size, 0, 0, TransferState::kWaiting});
    }
    return RunBounded(
        leaves_.size(), options_.max_concurrent_uploads, [this](size_t i) { return PushLeaf(leaves_[i]); },
        [this] { return failed_.load(); }, [this] { failed_ = true; });
  }

  Client& client_;
  remotes::Registry& registry_;
  const remotes::Reference& ref_;
  const PushOptions& options_;
  std::mutex progress_mu_;
  std::set<std::string> seen_;
  std::vector<BlobDescriptor> leaves_;
  std::vector<std::pair<BlobDescriptor, std::string>> manifests_;
  std::atomic<int64_t> uploaded_{0};
  int64_t total_ = 0;
  std::atomic<bool> failed_{false};
};

}  // namespace

Result<PushResult> Push(Client& client, const std::string& remote, const std::string& local,
                        const PushOptions& options) {
  BERTH_ASSIGN_OR_RETURN(remotes::Reference ref, remotes::ParseReference(remote));
  auto image = client.GetImage(local.empty() ? remote : local);
  if (!image.ok()) return image.status().Wrap("failed to get the image to push");
  BERTH_ASSIGN_OR_RETURN(auto registry, remotes::Registry::Open(ref.domain, options.registry));
  log::Debug("pushing", {{"namespace", client.namespace_name()}, {"image", image->name}, {"ref", ref.String()}});
  Pusher pusher(client, *registry, ref, options);
  return pusher.Run(*image);
}

}  // namespace berth::client
