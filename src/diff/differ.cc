#include "diff/differ.h"

#include <unistd.h>

#include <chrono>
#include <random>

#include "common/logging.h"
#include "diff/apply.h"
#include "diff/compare.h"
#include "diff/gzip_writer.h"
#include "diff/media_type.h"
#include "mount/scoped_mount.h"

namespace berth::diff {
namespace {

namespace fs = std::filesystem;

bool HasOption(const mount::Mount& m, std::string_view opt) {
  for (const auto& o : m.options) {
    if (o == opt) return true;
  }
  return false;
}

std::vector<fs::path> SplitLowers(std::string_view v) {
  std::vector<fs::path> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t end = v.find(':', pos);
    if (end == std::string_view::npos) end = v.size();
    if (end > pos) out.emplace_back(std::string(v.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

// containerd's uniqueRef: time and randomness.
std::string UniqueRef() {
  std::random_device rd;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("{}-{:08x}", std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), rd());
}

// A directory to read a mount list from: the mounts themselves when they are a plain
// directory (bind, single-lowerdir overlay, nothing at all), else a read-only temp mount.
class ReadView {
 public:
  static Result<ReadView> Open(const std::vector<mount::Mount>& mounts, const fs::path& temp_root) {
    ReadView v;
    if (mounts.empty()) {  // e.g. the parent of a first layer: an empty tree
      std::string tmpl = (temp_root / "berth-empty-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus(fmt::format("create empty dir in {}", temp_root.string()), errno);
      v.path_ = v.empty_dir_ = tmpl;
      return v;
    }
    std::vector<mount::Mount> ro = ReadonlyMounts(mounts);
    if (ro.size() == 1 && IsBind(ro[0])) {
      v.path_ = ro[0].source;
      return v;
    }
    if (ro.size() == 1 && ro[0].type == "overlay") {
      for (const auto& o : ro[0].options) {
        if (o.starts_with("lowerdir=")) {
          auto lowers = SplitLowers(std::string_view(o).substr(9));
          if (lowers.size() == 1) {
            v.path_ = lowers[0];
            return v;
          }
        }
      }
    }
    BERTH_ASSIGN_OR_RETURN(auto m, mount::ScopedMount::Create(ro, temp_root));
    v.mount_ = std::make_unique<mount::ScopedMount>(std::move(m));
    v.path_ = v.mount_->path();
    return v;
  }
  ReadView(ReadView&&) = default;
  ReadView& operator=(ReadView&&) = delete;
  ~ReadView() {
    if (!empty_dir_.empty()) ::rmdir(empty_dir_.c_str());
  }
  const fs::path& path() const { return path_; }

 private:
  ReadView() = default;
  fs::path path_;
  fs::path empty_dir_;
  std::unique_ptr<mount::ScopedMount> mount_;
};

}  // namespace

std::optional<OverlayDirs> OverlayDirsOf(const mount::Mount& m) {
  if (m.type != "overlay") return std::nullopt;
  OverlayDirs out;
  for (const auto& o : m.options) {
    if (o.starts_with("upperdir=")) out.upper = o.substr(9);
    if (o.starts_with("lowerdir=")) out.lowers = SplitLowers(std::string_view(o).substr(9));
  }
  if (out.upper.empty()) return std::nullopt;
  return out;
}

bool IsBind(const mount::Mount& m) { return m.type == "bind" || HasOption(m, "bind") || HasOption(m, "rbind"); }

bool IsReadOnly(const mount::Mount& m) {
  bool ro = false;
  for (const auto& o : m.options) {
    if (o == "ro") ro = true;
    if (o == "rw") ro = false;
  }
  return ro;
}

std::vector<mount::Mount> ReadonlyMounts(std::vector<mount::Mount> mounts) {
  for (auto& m : mounts) {
    if (m.type == "overlay") {
      std::string upper;
      std::vector<std::string> opts;
      for (const auto& o : m.options) {
        if (o.starts_with("upperdir=")) {
          upper = o.substr(9);
        } else if (!o.starts_with("workdir=")) {
          opts.push_back(o);
        }
      }
      if (!upper.empty()) {
        for (auto& o : opts) {
          if (o.starts_with("lowerdir=")) o = "lowerdir=" + upper + ":" + o.substr(9);
        }
      }
      m.options = std::move(opts);
      continue;
    }
    std::erase(m.options, "rw");
    if (!HasOption(m, "ro")) m.options.push_back("ro");
  }
  return mounts;
}

Status Differ::EnsureTempRoot() {
  std::error_code ec;
  fs::create_directories(temp_mounts_, ec);
  if (ec) return Unknown("create {}: {}", temp_mounts_.string(), ec.message());
  return Status::Ok();
}

Result<Descriptor> Differ::Apply(const metadata::ContentScope& scope, const Descriptor& layer,
                                 const std::vector<mount::Mount>& mounts) {
  auto digest = ParseDigest(layer.digest);
  if (!digest.ok()) return digest.status().Wrap("failed to get reader from content store");
  auto reader = store_.Reader(scope, *digest);
  if (!reader.ok()) return reader.status().Wrap("failed to get reader from content store");
  BERTH_RETURN_IF_ERROR(LayerCompression(layer.media_type).status());

  ApplyOptions opts;
  opts.what = fmt::format("layer {}", layer.digest);
  Result<AppliedLayer> applied = Internal("not applied");
  if (mounts.size() == 1 && OverlayDirsOf(mounts[0])) {
    OverlayDirs dirs = *OverlayDirsOf(mounts[0]);
    opts.overlay_whiteouts = true;
    opts.parents = dirs.lowers;
    applied = ApplyLayer(*reader, dirs.upper, opts);
  } else if (mounts.size() == 1 && IsBind(mounts[0]) && !IsReadOnly(mounts[0])) {
    applied = ApplyLayer(*reader, mounts[0].source, opts);
  } else {
    BERTH_RETURN_IF_ERROR(EnsureTempRoot());
    BERTH_ASSIGN_OR_RETURN(auto m, mount::ScopedMount::Create(mounts, temp_mounts_));
    applied = ApplyLayer(*reader, m.path(), opts);
    Status st = m.Release();
    if (applied.ok() && !st.ok()) return st;
  }
  if (!applied.ok()) return applied.status();
  log::Debug("diff applied", {{"digest", layer.digest}, {"media", layer.media_type},
                              {"diff_id", applied->diff_id.String()}});
  return Descriptor{std::string(kMediaTypeLayer), applied->diff_id.String(), applied->size};
}

Result<Descriptor> Differ::Compare(const metadata::ContentScope& scope, const std::vector<mount::Mount>& lower,
                                   const std::vector<mount::Mount>& upper, const CompareOptions& options) {
  const std::string media_type = options.media_type.empty() ? std::string(kMediaTypeLayerGzip) : options.media_type;
  const bool gzip = media_type == kMediaTypeLayerGzip;
  if (!gzip && media_type != kMediaTypeLayer) {
    return NotImplemented("unsupported diff media type: {}", media_type);
  }
  BERTH_RETURN_IF_ERROR(EnsureTempRoot());
  BERTH_ASSIGN_OR_RETURN(auto lower_view, ReadView::Open(lower, temp_mounts_));
  BERTH_ASSIGN_OR_RETURN(auto upper_view, ReadView::Open(upper, temp_mounts_));

  const bool new_ref = options.ref.empty();
  const std::string ref = new_ref ? UniqueRef() : options.ref;
  auto opened = store_.OpenWriter(scope, ref, 0, std::nullopt);
  if (!opened.ok()) return opened.status().Wrap("failed to open writer");
  std::unique_ptr<metadata::ContentWriter> cw = std::move(opened).value();
  if (!new_ref) BERTH_RETURN_IF_ERROR(cw->Truncate(0));

  // Any failure below leaves no ingest behind for a ref we made up.
  auto abort = [&](Status st) -> Status {
    cw->Close().IgnoreError();
    if (new_ref) {
      Status ast = store_.Abort(scope, ref);
      if (!ast.ok()) log::Warn("failed to delete diff upload", {{"ref", ref}, {"error", ast.ToString()}});
    }
    return st;
  };

  BERTH_ASSIGN_OR_RETURN(auto hasher, Hasher::New("sha256"));
  ByteSink to_store = [&](std::string_view data) { return cw->Write(data); };
  std::unique_ptr<GzipWriter> gz;
  if (gzip) {
    auto g = GzipWriter::Open(to_store);
    if (!g.ok()) return abort(g.status());
    gz = std::move(g).value();
  }
  ByteSink tar_sink = [&](std::string_view data) -> Status {
    hasher.Update(data.data(), data.size());
    return gz ? gz->Write(data) : cw->Write(data);
  };
  Status st = WriteDiff(lower_view.path(), upper_view.path(), tar_sink);
  if (st.ok() && gz) st = gz->Close();
  if (!st.ok()) return abort(st.Wrap(gzip ? "failed to write compressed diff" : "failed to write diff"));

  labels::Labels lbls = options.labels;
  const std::string uncompressed = hasher.Finish().String();
  lbls[kUncompressedLabel] = uncompressed;  // (a plain tar's is its own digest)
  const Digest dgst = cw->CurrentDigest();
  st = cw->Commit(0, dgst, lbls);
  if (!st.ok() && !st.Is(Errc::kAlreadyExists)) return abort(st.Wrap("failed to commit"));

  auto info = store_.Info(scope, dgst);
  if (!info.ok()) return info.status().Wrap("failed to get info from content store");
  if (!info->labels.contains(kUncompressedLabel)) {
    // The blob existed without the label: set it (containerd sets its own uncompressed value).
    labels::Labels add{{kUncompressedLabel, uncompressed}};
    auto updated = store_.Update(scope, dgst, add, {std::string("labels.") + kUncompressedLabel});
    if (!updated.ok()) return updated.status().Wrap("error setting uncompressed label");
  }
  return Descriptor{media_type, dgst.String(), info->size};
}

}  // namespace berth::diff
