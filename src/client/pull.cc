// Pull: resolve, walk the manifests (platform filtered), fetch the leaves in parallel with
// resumable ingests, create the image, unpack.
#include "client/pull.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "client/content_stream.h"
#include "client/temp_lease.h"
#include "client/worker_pool.h"
#include "common/logging.h"
#include "images/distribution_source.h"
#include "images/gc_labels.h"
#include "remotes/reference.h"

namespace berth::client {
namespace {

using images::BlobDescriptor;

class Puller {
 public:
  Puller(Client& client, remotes::Registry& registry, const remotes::Reference& ref, const PullOptions& options)
      : client_(client), registry_(registry), ref_(ref), options_(options) {}

  Result<PullResult> Run() {
    BERTH_ASSIGN_OR_RETURN(Descriptor root, registry_.Resolve(ref_));
    BERTH_RETURN_IF_ERROR(Walk(root, 0));
    if (leaves_.empty()) {
      return NotFound("{}: no manifest matches platform {}", ref_.String(), images::FormatPlatform(options_.platform));
    }
    Image image;
    image.name = options_.name.empty() ? ref_.String() : options_.name;
    image.labels = options_.labels;
    image.target = root;

    // Layers are unpacked as they arrive (as containerd's unpacker does): layer i is applied
    // once it is committed and layer i-1 is applied, while later ones still download.
    Result<std::string> unpacked = std::string();
    std::thread unpacker;
    // A checkpoint has no root filesystem of its own to unpack (its base image is pulled apart).
    if (options_.unpack && !checkpoint_) {
      unpacker = std::thread([&] {
        UnpackOptions unpack;
        unpack.snapshotter = options_.snapshotter;
        unpack.platform = options_.platform;
        if (options_.unpack_progress) {
          unpack.progress = [this](const UnpackProgress& u) {
            std::lock_guard lock(progress_mu_);
            options_.unpack_progress(u);
          };
        }
        unpack.wait_for_blob = [this](const std::string& digest) { return WaitForBlob(digest); };
        unpacked = UnpackImage(client_, image, unpack);
        if (!unpacked.ok()) Fail();  // stop the downloads too
      });
    }
    Status fetched = FetchLeaves();
    if (!fetched.ok()) Fail();
    if (unpacker.joinable()) unpacker.join();
    // The first failure is the one to report: a download's, or the unpack's (which cancels
    // the downloads, and is canceled by them).
    if (!fetched.ok() && !fetched.Is(Errc::kCanceled)) return fetched;
    if (!unpacked.ok()) return unpacked.status();
    BERTH_RETURN_IF_ERROR(fetched);

    PullResult result;
    result.fetched = fetched_;
    result.total = total_;
    result.chain_id = *unpacked;
    auto created = client_.CreateImage(image);
    if (!created.ok() && created.status().Is(Errc::kAlreadyExists)) created = client_.UpdateImage(image, {});
    if (!created.ok()) return created.status().Wrap(fmt::format("failed to create image {}", image.name));
    result.image = std::move(*created);
    return result;
  }

 private:
  // Ends the pull early: downloads stop at their next chunk, waits for blobs return.
  void Fail() {
    std::lock_guard lock(blobs_mu_);
    failed_ = true;
    blobs_cv_.notify_all();
  }

  void BlobReady(const std::string& digest) {
    std::lock_guard lock(blobs_mu_);
    ready_.insert(digest);
    blobs_cv_.notify_all();
  }

  // Blocks until the leaf `digest` is in the store (Canceled when the pull failed).
  Status WaitForBlob(const std::string& digest) {
    std::unique_lock lock(blobs_mu_);
    if (!seen_.contains(digest)) return Status::Ok();  // not one this pull fetches
    blobs_cv_.wait(lock, [&] { return failed_.load() || ready_.contains(digest); });
    if (ready_.contains(digest)) return Status::Ok();
    return Status(Errc::kCanceled, fmt::format("pull of {} failed before {} arrived", ref_.String(), digest));
  }

  void Report(const TransferProgress& p) {
    if (!options_.progress) return;
    std::lock_guard lock(progress_mu_);
    options_.progress(p);
  }

  // The distribution source label a blob from this repository gets, appended to what it has.
  labels::Labels SourceLabel(const labels::Labels& have = {}) const {
    return images::AppendDistributionSource(have, ref_.domain, ref_.path);
  }

  Result<std::optional<ContentInfo>> Existing(const std::string& digest) {
    auto info = client_.GetContentInfo(digest);
    if (info.ok()) return std::optional<ContentInfo>(std::move(*info));
    if (info.status().Is(Errc::kNotFound)) return std::optional<ContentInfo>();
    return info.status();
  }

  // Adds labels to a blob that was already there.
  Status Label(const ContentInfo& info, const labels::Labels& add) {
    std::vector<std::string> paths;
    bool changed = false;
    for (const auto& [k, v] : add) {
      paths.push_back("labels." + k);
      auto it = info.labels.find(k);
      changed = changed || it == info.labels.end() || it->second != v;
    }
    if (!changed) return Status::Ok();
    return client_.UpdateContentLabels(info.digest, add, paths).status();
  }

  // A blob that someone else stored meanwhile (the write found it there) gets `add` and this
  // repository's source label all the same, as containerd labels a blob whether or not its
  // fetch wrote it.
  Status LabelStored(const std::string& digest, labels::Labels add = {}) {
    BERTH_ASSIGN_OR_RETURN(auto now, Existing(digest));
    if (!now) return Status::Ok();  // collected already: nothing to label
    for (auto& [k, v] : SourceLabel(now->labels)) add[k] = v;
    return Label(*now, add);
  }

  bool Stopped() const { return failed_.load(); }

  // A small blob (index, manifest) stored with `add` labels, or labelled if it is there already.
  Status StoreBlob(const BlobDescriptor& desc, const std::string& blob, const labels::Labels& add) {
    ContentWriteRequest req{IngestRef(desc.media_type, desc.digest), desc.digest, desc.size, {}, true, 1 << 20};
    auto writer = ContentWriter::Open(client_, req, [this] { return Stopped(); });
    if (!writer.ok() && writer.status().Is(Errc::kAlreadyExists)) return LabelStored(desc.digest, add);
    if (!writer.ok()) return writer.status().Wrap(fmt::format("failed to store {}", desc.digest));
    ContentWriter& w = **writer;
    w.Restart();  // whatever an old ingest holds, write it all
    labels::Labels with_source = add;
    for (auto& [k, v] : SourceLabel()) with_source[k] = v;
    Status st = w.Write(blob);
    if (!st.ok()) return st.Wrap(fmt::format("failed to store {}", desc.digest));
    auto committed = w.Commit(with_source);
    if (!committed.ok() && committed.status().Is(Errc::kAlreadyExists)) return LabelStored(desc.digest, add);
    if (!committed.ok()) return committed.status().Wrap(fmt::format("failed to store {}", desc.digest));
    return Status::Ok();
  }

  // Index or manifest: fetched (or read from the store), stored with its children's labels,
  // children walked. Configs and layers are queued for the parallel fetch.
  Status Walk(const BlobDescriptor& desc, int depth) {
    BERTH_RETURN_IF_ERROR(images::CheckNotSchema1(desc).Wrap(ref_.String()));
    if (!images::IsIndexType(desc.media_type) && !images::IsManifestType(desc.media_type)) {
      if (seen_.insert(desc.digest).second) {
        leaves_.push_back(desc);
        total_ += desc.size;
      }
      return Status::Ok();
    }
    if (depth > 8) return InvalidArgument("{}: indexes nested too deeply", ref_.String());
    total_ += desc.size;
    BERTH_ASSIGN_OR_RETURN(auto existing, Existing(desc.digest));
    std::string blob;
    if (existing) {
      BERTH_ASSIGN_OR_RETURN(blob, client_.ReadContentBlob(desc.digest, 4 << 20));
    } else {
      TransferProgress p{IngestRef(desc.media_type, desc.digest), desc.media_type, desc.digest, desc.size, 0, 0,
                         TransferState::kRunning};
      Report(p);
      BERTH_ASSIGN_OR_RETURN(blob, registry_.FetchManifest(ref_.path, desc));
      fetched_ += static_cast<int64_t>(blob.size());
      p.offset = static_cast<int64_t>(blob.size());
      p.state = TransferState::kDone;
      Report(p);
    }
    BERTH_ASSIGN_OR_RETURN(auto children, images::Children(desc, blob));
    if (depth == 0 && images::IsIndexType(desc.media_type) && images::IsCheckpointIndex(children)) checkpoint_ = true;
    // Every child gets its gc label, fetched or not (containerd labels before it filters):
    // an index pulled once per platform keeps each platform's manifest referenced.
    labels::Labels gc = images::ChildGcLabels(children);
    if (!options_.all_platforms) children = images::ChildrenToFetch(desc, std::move(children), options_.platform);
    if (existing) {
      labels::Labels add = gc;
      for (auto& [k, v] : SourceLabel(existing->labels)) add[k] = v;
      BERTH_RETURN_IF_ERROR(Label(*existing, add));
    } else {
      BERTH_RETURN_IF_ERROR(StoreBlob(desc, blob, gc));
    }
    for (const auto& ch : children) BERTH_RETURN_IF_ERROR(Walk(ch, depth + 1));
    return Status::Ok();
  }

  Status FetchLeaf(const BlobDescriptor& desc) {
    TransferProgress p{IngestRef(desc.media_type, desc.digest), desc.media_type, desc.digest, desc.size, 0, 0,
                       TransferState::kRunning};
    BERTH_ASSIGN_OR_RETURN(auto existing, Existing(desc.digest));
    if (existing) {
      BERTH_RETURN_IF_ERROR(Label(*existing, SourceLabel(existing->labels)));
      p.offset = desc.size;
      p.state = TransferState::kExists;
      Report(p);
      BlobReady(desc.digest);
      return Status::Ok();
    }
    ContentWriteRequest req{p.ref, desc.digest, desc.size, {}, true, 1 << 20};
    // Another pull writing the same blob holds its ingest: wait for it (then the blob is there).
    auto writer = ContentWriter::Open(client_, req, [this] { return Stopped(); });
    if (!writer.ok() && writer.status().Is(Errc::kAlreadyExists)) {
      BERTH_RETURN_IF_ERROR(LabelStored(desc.digest));
      p.offset = desc.size;
      p.state = TransferState::kExists;
      Report(p);
      BlobReady(desc.digest);
      return Status::Ok();
    }
    if (!writer.ok()) return writer.status().Wrap(fmt::format("failed to open the ingest {}", p.ref));
    ContentWriter& w = **writer;
    p.resumed_from = p.offset = w.offset();
    Report(p);
    auto last_report = std::chrono::steady_clock::now();
    // curl hands over 16 KiB at a time; the store gets 1 MiB writes (each is a round trip).
    constexpr size_t kWriteSize = 1 << 20;
    std::string pending;
    pending.reserve(kWriteSize);
    Status fetched = registry_.FetchBlob(ref_.path, desc, w.offset(), [&](std::string_view data) -> Status {
      if (failed_.load()) return Status(Errc::kCanceled, "another download failed");
      fetched_ += static_cast<int64_t>(data.size());
      pending.append(data);
      if (pending.size() < kWriteSize) return Status::Ok();
      BERTH_RETURN_IF_ERROR(w.Write(pending));
      pending.clear();
      p.offset = w.offset();
      auto now = std::chrono::steady_clock::now();
      if (now - last_report >= std::chrono::milliseconds(50)) {
        last_report = now;
        Report(p);
      }
      return Status::Ok();
    });
    if (fetched.ok() && !pending.empty()) fetched = w.Write(pending);
    if (!fetched.ok()) {
      p.state = TransferState::kFailed;
      Report(p);
      return fetched;
    }
    auto committed = w.Commit(SourceLabel());
    if (!committed.ok() && committed.status().Is(Errc::kAlreadyExists)) {
      BERTH_RETURN_IF_ERROR(LabelStored(desc.digest));
    } else if (!committed.ok()) {
      p.state = TransferState::kFailed;
      Report(p);
      if (committed.status().Is(Errc::kFailedPrecondition) || committed.status().Is(Errc::kInvalidArgument)) {
        // Wrong bytes: a resume would keep them; start over next time.
        writer->reset();
        client_.AbortIngest(p.ref).IgnoreError();
      }
      return committed.status().Wrap(fmt::format("failed to commit {}", desc.digest));
    }
    p.offset = desc.size;
    p.state = TransferState::kDone;
    Report(p);
    BlobReady(desc.digest);
    return Status::Ok();
  }

  Status FetchLeaves() {
    for (const auto& d : leaves_) {
      Report({IngestRef(d.media_type, d.digest), d.media_type, d.digest, d.size, 0, 0, TransferState::kWaiting});
    }
    return RunBounded(
        leaves_.size(), options_.max_concurrent_downloads, [this](size_t i) { return FetchLeaf(leaves_[i]); },
        [this] { return Stopped(); }, [this] { Fail(); });
  }

  Client& client_;
  remotes::Registry& registry_;
  const remotes::Reference& ref_;
  const PullOptions& options_;
  std::mutex progress_mu_;
  std::vector<BlobDescriptor> leaves_;
  bool checkpoint_ = false;  // the root is a containerd checkpoint index
  std::set<std::string> seen_;  // leaves; written by the walk, before the threads start
  std::mutex blobs_mu_;
  std::condition_variable blobs_cv_;
  std::set<std::string> ready_;  // leaves in the store; guarded by blobs_mu_
  std::atomic<int64_t> fetched_{0};
  int64_t total_ = 0;
  std::atomic<bool> failed_{false};
};

}  // namespace

Result<PullResult> Pull(Client& client, const std::string& ref_text, const PullOptions& options) {
  BERTH_ASSIGN_OR_RETURN(remotes::Reference ref, remotes::ParseReference(ref_text));
  BERTH_ASSIGN_OR_RETURN(auto registry, remotes::Registry::Open(ref.domain, options.registry));
  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  log::Debug("pulling", {{"namespace", client.namespace_name()}, {"ref", ref.String()}});
  Puller puller(lease.client(), *registry, ref, options);
  return puller.Run();
}

}  // namespace berth::client
