// Fuzz target: the registry-supplied JSON that src/images parses (berth_images).
//
// Bytes: data[0] % 5 picks the parser, the rest is the document(s):
//   0 children:   data[1] picks a media type (kMediaTypes), data[2] a platform (kPlatforms);
//                 data[3..] is one blob given to Children() (index/manifest list: its manifests;
//                 manifest: config then layers), then PlatformCandidates, ChildrenToFetch and
//                 ChildGcLabels as a pull uses them.
//   1 config:     an image config: ConfigDiffIds, then ChainIds/ChainId.
//   2 checkpoint: a checkpoint image's index: DecodeCheckpointIndex, re-encoded and read back.
//   3 walk:       data[1] picks the root's media type (kRootTypes), data[2] the platform;
//                 data[3..] is a store of blobs separated by NUL bytes (JSON has none): blob i
//                 has the digest "sha256:<i>" (decimal), the root is blob 0. ResolveManifest,
//                 CheckImage, ImageSize and ImagePlatforms walk it through a fetch callback that
//                 gives at most kFetchBudget blobs per walk (a real store is content-addressed,
//                 so it has no cycles; made-up digests do).
//   4 platform:   a platform string (os/arch[/variant]) for ParsePlatform.
// Invariants:
//   - children: every child has a digest; PlatformCandidates keeps only matching or
//     platform-less children, those with a platform first, in their order; ChildrenToFetch of
//     a non-checkpoint index is its first candidate at most, of anything else all children;
//     ChildGcLabels gives one distinct label per child, its value the child's digest.
//   - config: ChainIds has one id per diff id, the first is the diff id, the others are
//     "sha256:" + 64 hex, ChainId is the last, and recomputing gives the same ids.
//   - checkpoint: sizes are non-negative; encoding and decoding again gives the same index;
//     one gc label per manifest; FindEntry finds the first entry of a media type.
//   - walk: a resolved manifest is the config + layers of a manifest blob the walk fetched;
//     for an index (not a checkpoint) the manifest followed is the one a pull fetches
//     (ChildrenToFetch); CheckImage agrees with ResolveManifest (available iff resolved, the
//     required blobs are its config and layers, present/missing split them by the store).
//   - platform: a parsed platform formats and parses back to itself and matches itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "images/checkpoint_index.h"
#include "images/gc_labels.h"
#include "images/rootfs.h"
#include "images/walk.h"

namespace {

using berth::Errc;
using berth::Result;
using berth::Status;
using namespace berth::images;

constexpr int kFetchBudget = 64;

const std::string_view kMediaTypes[] = {
    kOciIndex,
    kDockerManifestList,
    kOciManifest,
    kDockerManifest,
    kDockerSchema1Manifest,
    kDockerSchema1SignedManifest,
    kOciConfig,
    "application/vnd.oci.image.layer.v1.tar+gzip",
};
const std::string_view kRootTypes[] = {kOciIndex, kDockerManifestList, kOciManifest, kDockerManifest,
                                       kDockerSchema1Manifest, kOciConfig};

const Platform kPlatforms[] = {
    {"linux", "amd64", ""}, {"linux", "arm64", ""},   {"linux", "arm", "v7"}, {"linux", "arm", ""},
    {"linux", "arm", "v6"}, {"windows", "amd64", ""}, {"linux", "386", ""},   {"linux", "s390x", ""},
};

template <typename T, size_t N>
const T& Pick(const T (&table)[N], uint8_t b) {
  return table[b % N];
}

bool SamePlatform(const Platform& a, const Platform& b) {
  return a.os == b.os && a.architecture == b.architecture && a.variant == b.variant;
}

bool SameDescriptor(const BlobDescriptor& a, const BlobDescriptor& b) {
  if (a.media_type != b.media_type || a.digest != b.digest || a.size != b.size) return false;
  if (a.platform.has_value() != b.platform.has_value()) return false;
  return !a.platform || SamePlatform(*a.platform, *b.platform);
}

std::vector<std::string> Digests(const ParsedManifest& m) {
  std::vector<std::string> out{m.config.digest};
  for (const auto& l : m.layers) out.push_back(l.digest);
  return out;
}

std::vector<std::string> Digests(const std::vector<BlobDescriptor>& v) {
  std::vector<std::string> out;
  for (const auto& d : v) out.push_back(d.digest);
  return out;
}

// ---- 0: one index or manifest ----

void FuzzChildren(uint8_t media, uint8_t platform_byte, std::string_view blob) {
  BlobDescriptor parent{std::string(Pick(kMediaTypes, media)), "sha256:parent",
                        static_cast<int64_t>(blob.size()), {}, std::nullopt};
  const Platform& platform = Pick(kPlatforms, platform_byte);
  auto children = Children(parent, blob);
  if (IsSchema1ManifestType(parent.media_type)) {
    FUZZ_CHECK(!children.ok() && children.status().Is(Errc::kFailedPrecondition));
    return;
  }
  if (!children.ok()) {
    FUZZ_CHECK(children.status().Is(Errc::kInvalidArgument));
    return;
  }
  if (!IsIndexType(parent.media_type) && !IsManifestType(parent.media_type)) {
    FUZZ_CHECK(children->empty());
    return;
  }
  if (IsManifestType(parent.media_type)) FUZZ_CHECK(!children->empty());  // the config at least
  for (const auto& c : *children) FUZZ_CHECK(!c.digest.empty());

  // PlatformCandidates: a stable filter, those with a platform first.
  auto candidates = PlatformCandidates(*children, platform);
  std::vector<BlobDescriptor> want;
  for (const auto& c : *children) {
    if (c.platform && MatchPlatform(platform, *c.platform)) want.push_back(c);
  }
  for (const auto& c : *children) {
    if (!c.platform) want.push_back(c);
  }
  FUZZ_CHECK(candidates.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) FUZZ_CHECK(SameDescriptor(candidates[i], want[i]));

  auto fetch = ChildrenToFetch(parent, *children, platform);
  if (IsIndexType(parent.media_type) && !IsCheckpointIndex(*children)) {
    FUZZ_CHECK(fetch.size() == std::min<size_t>(1, candidates.size()));
    if (!fetch.empty()) FUZZ_CHECK(SameDescriptor(fetch[0], candidates[0]));
  } else {
    FUZZ_CHECK(fetch.size() == children->size());
  }

  auto gc = ChildGcLabels(*children);
  FUZZ_CHECK(gc.size() == children->size());
  auto digests = Digests(*children);
  for (const auto& [key, value] : gc) {
    FUZZ_CHECK(key.starts_with("containerd.io/gc.ref.content."));
    FUZZ_CHECK(std::find(digests.begin(), digests.end(), value) != digests.end());
  }
}

// ---- 1: image config ----

bool IsSha256Digest(const std::string& s) {
  if (s.size() != 71 || !s.starts_with("sha256:")) return false;
  return s.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

void FuzzConfig(std::string_view config) {
  auto ids = ConfigDiffIds(config);
  if (!ids.ok()) {
    FUZZ_CHECK(ids.status().Is(Errc::kInvalidArgument));
    return;
  }
  auto chain = ChainIds(*ids);
  FUZZ_CHECK(chain.size() == ids->size());
  if (chain.empty()) {
    FUZZ_CHECK(ChainId(*ids).empty());
    return;
  }
  FUZZ_CHECK(chain[0] == (*ids)[0]);
  for (size_t i = 1; i < chain.size(); ++i) {
    FUZZ_CHECK(IsSha256Digest(chain[i]));
    FUZZ_CHECK(chain[i] == Sha256Digest(chain[i - 1] + " " + (*ids)[i]));
  }
  FUZZ_CHECK(ChainId(*ids) == chain.back());
  FUZZ_CHECK(ChainIds(*ids) == chain);  // deterministic
}

// ---- 2: checkpoint index ----

bool SameIndex(const CheckpointIndex& a, const CheckpointIndex& b) {
  if (a.annotations != b.annotations || a.manifests.size() != b.manifests.size()) return false;
  for (size_t i = 0; i < a.manifests.size(); ++i) {
    const IndexEntry& x = a.manifests[i];
    const IndexEntry& y = b.manifests[i];
    if (x.media_type != y.media_type || x.digest != y.digest || x.size != y.size ||
        x.annotations != y.annotations || x.with_platform != y.with_platform) {
      return false;
    }
  }
  return true;
}

void FuzzCheckpointIndex(std::string_view text) {
  auto index = DecodeCheckpointIndex(text);
  if (!index.ok()) {
    FUZZ_CHECK(index.status().Is(Errc::kInvalidArgument));
    return;
  }
  for (const IndexEntry& e : index->manifests) FUZZ_CHECK(e.size >= 0);
  const std::string encoded = EncodeCheckpointIndex(*index, Platform{"linux", "arm", "v7"});
  auto back = DecodeCheckpointIndex(encoded);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(SameIndex(*index, *back));
  FUZZ_CHECK(EncodeCheckpointIndex(*back, Platform{"linux", "arm", "v7"}) == encoded);
  FUZZ_CHECK(CheckpointIndexGcLabels(*index).size() == index->manifests.size());
  for (const IndexEntry& e : index->manifests) {
    const IndexEntry* found = FindEntry(*index, e.media_type);
    FUZZ_CHECK(found != nullptr && found->media_type == e.media_type);
    FUZZ_CHECK(found <= &e);  // the first of its media type
  }
}

// ---- 3: walking a store ----

class Store {
 public:
  explicit Store(std::string_view all) {
    size_t start = 0;
    while (true) {
      size_t nul = all.find('\0', start);
      const std::string_view blob = all.substr(start, nul == std::string_view::npos ? nul : nul - start);
      blobs_.emplace("sha256:" + std::to_string(blobs_.size()), std::string(blob));
      if (nul == std::string_view::npos) break;
      start = nul + 1;
    }
  }

  // A fresh budget and fetch log, for the next walk.
  void Reset() {
    budget_ = kFetchBudget;
    log_.clear();
  }
  const std::vector<BlobDescriptor>& fetched() const { return log_; }
  const std::string* Get(const std::string& digest) const {
    auto it = blobs_.find(digest);
    return it == blobs_.end() ? nullptr : &it->second;
  }

  FetchBlob Fetch() {
    return [this](const BlobDescriptor& d) -> Result<std::string> {
      if (budget_ <= 0) return berth::NotFound("fetch budget spent at {}", d.digest);
      --budget_;
      log_.push_back(d);
      const std::string* blob = Get(d.digest);
      if (blob == nullptr) return berth::NotFound("content digest {}", d.digest);
      return *blob;
    };
  }
  HasBlob Has() const {
    return [this](const BlobDescriptor& d) -> Result<bool> { return Get(d.digest) != nullptr; };
  }

 private:
  std::map<std::string, std::string> blobs_;
  int budget_ = kFetchBudget;
  std::vector<BlobDescriptor> log_;
};

void FuzzWalk(uint8_t media, uint8_t platform_byte, std::string_view all) {
  Store store(all);
  const std::string* root_blob = store.Get("sha256:0");
  FUZZ_CHECK(root_blob != nullptr);
  const BlobDescriptor root{std::string(Pick(kRootTypes, media)), "sha256:0",
                            static_cast<int64_t>(root_blob->size()), {}, std::nullopt};
  const Platform& platform = Pick(kPlatforms, platform_byte);

  store.Reset();
  auto manifest = ResolveManifest(root, platform, store.Fetch());
  if (manifest.ok()) {
    // The manifest resolved is one the walk fetched.
    bool found = false;
    for (const auto& d : store.fetched()) {
      const std::string* blob = store.Get(d.digest);
      if (!IsManifestType(d.media_type) || blob == nullptr) continue;
      auto children = Children(d, *blob);
      if (children.ok() && Digests(*children) == Digests(*manifest)) found = true;
    }
    FUZZ_CHECK(found);
    // Pull and unpack agree: the child an index walk follows is the one a pull fetches.
    if (IsIndexType(root.media_type)) {
      auto children = Children(root, *root_blob);
      FUZZ_CHECK(children.ok());
      if (!IsCheckpointIndex(*children)) {
        auto fetch = ChildrenToFetch(root, *children, platform);
        FUZZ_CHECK(fetch.size() == 1);
        FUZZ_CHECK(store.fetched().size() >= 2);
        FUZZ_CHECK(store.fetched()[1].digest == fetch[0].digest);
        FUZZ_CHECK(store.fetched()[1].media_type == fetch[0].media_type);
      }
    }
  }

  store.Reset();
  auto check = CheckImage(root, platform, store.Fetch(), store.Has());
  if (!manifest.ok() && !manifest.status().Is(Errc::kNotFound)) FUZZ_CHECK(!check.ok());
  if (check.ok()) {
    FUZZ_CHECK(check->available == manifest.ok());
    FUZZ_CHECK(check->present.size() + check->missing.size() == check->required.size());
    if (check->available) {
      FUZZ_CHECK(Digests(check->required) == Digests(*manifest));
      for (const auto& d : check->present) FUZZ_CHECK(store.Get(d.digest) != nullptr);
      for (const auto& d : check->missing) FUZZ_CHECK(store.Get(d.digest) == nullptr);
    } else {
      FUZZ_CHECK(check->required.size() == 1 && check->required[0].digest == root.digest);
      FUZZ_CHECK(check->missing.size() == 1 && check->present.empty());
    }
  }

  store.Reset();
  Status size_error;
  const int64_t size = ImageSize(root, platform, store.Fetch(), &size_error);
  if (size_error.ok() && root.media_type == kOciConfig) FUZZ_CHECK(size == root.size);

  store.Reset();
  auto platforms = ImagePlatforms(root, store.Fetch());
  platforms.IgnoreError();
}

// ---- 4: platform strings ----

void FuzzPlatform(std::string_view spec) {
  auto p = ParsePlatform(spec);
  if (!p.ok()) {
    FUZZ_CHECK(p.status().Is(Errc::kInvalidArgument));
    return;
  }
  FUZZ_CHECK(!p->os.empty() && !p->architecture.empty());
  FUZZ_CHECK(SamePlatform(NormalizePlatform(*p), *p));  // normalized, and idempotent
  FUZZ_CHECK(MatchPlatform(*p, *p));
  auto again = ParsePlatform(FormatPlatform(*p));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(SamePlatform(*again, *p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::string_view rest = all.substr(1);
  switch (data[0] % 5) {
    case 0:
      if (size < 3) return 0;
      FuzzChildren(data[1], data[2], all.substr(3));
      break;
    case 1:
      FuzzConfig(rest);
      break;
    case 2:
      FuzzCheckpointIndex(rest);
      break;
    case 3:
      if (size < 3) return 0;
      FuzzWalk(data[1], data[2], all.substr(3));
      break;
    default:
      FuzzPlatform(rest);
      break;
  }
  return 0;
}
