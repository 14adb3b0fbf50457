// ImportImages: containerd 1.6's images/archive.ImportIndex and client.Import (with ctr
// import's naming), onto libarchive and the content, images and snapshots services.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "images/gc_labels.h"
#include "client/image_import.h"
#include "client/image_names.h"
#include "client/tar_archive.h"
#include "client/temp_lease.h"
#include "client/unpack.h"
#include "common/timeutil.h"
#include "images/rootfs.h"

namespace berth::client {
namespace {

using images::BlobDescriptor;
using json = nlohmann::ordered_json;

inline constexpr const char* kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr int64_t kJsonLimit = 20 << 20;

// A file of the archive, now in the content store.
struct ArchiveBlob {
  std::string digest;
  int64_t size = 0;
  std::string head;  // its first bytes
};

// Go's path.Clean for the relative names of a tar.
std::string CleanPath(std::string_view name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else {
        parts.emplace_back("..");
      }
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out.empty() ? "." : out;
}

// "sha256:<hex>" for "blobs/sha256/<hex>"; "" for other names.
std::string DigestOfBlobPath(const std::string& path) {
  if (!path.starts_with("blobs/")) return "";
  std::string rest = path.substr(6);
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || rest.find('/', slash + 1) != std::string::npos) {
    return "";
  }
  return rest.substr(0, slash) + ":" + rest.substr(slash + 1);
}

// The media type importer.go's detectLayerMediaType gives a docker save layer from its first
// bytes: compressed (gzip or zstd magic) or not; containerd calls any compressed one gzip.
const char* DockerLayerMediaType(std::string_view head) {
  const bool compressed = head.starts_with("\x1f\x8b") || head.starts_with("\x28\xb5\x2f\xfd");
  return compressed ? kDockerLayerGzip : kDockerLayer;
}

std::string StringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

class Importer {
 public:
  Importer(Client& client, const ImportOptions& options) : client_(client), options_(options) {}

  Result<std::vector<Image>> Run(std::istream& in) {
    BERTH_RETURN_IF_ERROR(ReadArchive(in));
    BERTH_ASSIGN_OR_RETURN(Descriptor index, IndexOfArchive());
    BERTH_ASSIGN_OR_RETURN(std::vector<Image> wanted, Walk(index));

    std::vector<Image> imported;
    for (auto& image : wanted) {
      auto created = client_.CreateImage(image);
      if (!created.ok() && created.status().Is(Errc::kAlreadyExists)) {
        created = client_.UpdateImage(image, {"target"});
      }
      if (!created.ok()) {
        return created.status().Wrap(fmt::format("failed to create image {:?}", image.name));
      }
      imported.push_back(std::move(*created));
    }
    if (!options_.unpack) return imported;
    for (const auto& image : imported) {
      if (!unpack_.contains(image.name)) continue;
      if (options_.unpacking) options_.unpacking(image, false);
      UnpackOptions unpack;
      unpack.snapshotter = options_.snapshotter;
      unpack.platform = options_.platform.value_or(images::HostPlatform());
      auto chain = UnpackImage(client_, image, unpack);
      if (!chain.ok()) return chain.status().Wrap(fmt::format("failed to unpack {:?}", image.name));
      if (options_.unpacking) options_.unpacking(image, true);
    }
    return imported;
  }

 private:
  struct DockerManifestEntry {
    std::string config;
    std::vector<std::string> repo_tags;
    std::vector<std::string> layers;
  };

  // ImportIndex's pass over the tar: oci-layout and manifest.json read, every other regular
  // file written to the content store.
  Status ReadArchive(std::istream& in) {
    TarReader tar(in);
    BERTH_RETURN_IF_ERROR(tar.Open());
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(archive_entry * entry, tar.Next());
      if (entry == nullptr) break;
      const char* raw_name = archive_entry_pathname(entry);
      const std::string name = CleanPath(raw_name != nullptr ? raw_name : "");
      const mode_t type = archive_entry_filetype(entry);
      if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(entry);
        std::string dir =
            name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/') + 1);
        symlinks_[name] = CleanPath(dir + (target != nullptr ? target : ""));
        continue;
      }
      if (type != AE_IFREG) continue;
      if (name == "oci-layout") {
        BERTH_ASSIGN_OR_RETURN(json layout, ReadJson(tar, name));
        oci_version_ = StringField(layout, "imageLayoutVersion");
        if (oci_version_.empty())
          return InvalidArgument("untar oci layout {:?}: no imageLayoutVersion", name);
      } else if (name == "manifest.json") {
        BERTH_ASSIGN_OR_RETURN(json manifests, ReadJson(tar, name));
        BERTH_RETURN_IF_ERROR(ParseDockerManifests(manifests));
      } else {
        BERTH_RETURN_IF_ERROR(IngestEntry(tar, entry, name));
      }
    }
    return Status::Ok();
  }

  Result<json> ReadJson(TarReader& tar, const std::string& name) {
    auto data = tar.ReadAll(kJsonLimit);
    if (!data.ok()) return data.status().Wrap(fmt::format("archive entry {:?}", name));
    json j = json::parse(*data, nullptr, false);
    if (j.is_discarded()) return InvalidArgument("archive entry {:?}: not valid JSON", name);
    return j;
  }

  Status ParseDockerManifests(const json& j) {
    auto bad = [](std::string_view why) {
      return InvalidArgument("untar manifest \"manifest.json\": {}", why);
    };
    if (!j.is_array()) return bad("not a JSON array");
    docker_manifests_.emplace();
    for (const auto& m : j) {
      if (!m.is_object()) return bad("an entry is not an object");
      DockerManifestEntry entry;
      entry.config = StringField(m, "Config");
      for (const char* key : {"RepoTags", "Layers"}) {
        auto it = m.find(key);
        if (it == m.end() || it->is_null()) continue;
        if (!it->is_array()) return bad(fmt::format("{} is not an array", key));
        for (const auto& v : *it) {
          if (!v.is_string()) return bad(fmt::format("{} holds a non-string", key));
          (std::string_view(key) == "Layers" ? entry.layers : entry.repo_tags)
              .push_back(v.get<std::string>());
        }
      }
      docker_manifests_->push_back(std::move(entry));
    }
    return Status::Ok();
  }

  // One file into the content store, checked against the digest its path names (blobs/alg/hex).
  Status IngestEntry(TarReader& tar, archive_entry* entry, const std::string& name) {
    const int64_t size = archive_entry_size(entry);
    ContentWriteRequest request;
    request.ref = "tar-" + name;
    request.expected = DigestOfBlobPath(name);
    request.size = size;
    // An ingest left by an earlier import cannot be resumed from a stream: start over.
    if (Status st = client_.AbortIngest(request.ref); !st.ok() && !st.Is(Errc::kNotFound)) {
      return st.Wrap(fmt::format("failed to ingest {:?}", name));
    }
    EntryStreamBuf buf(tar);
    std::istream stream(&buf);
    auto written = client_.WriteContent(stream, request);
    if (!buf.error().empty()) {
      client_.AbortIngest(request.ref).IgnoreError();
      return InvalidArgument("failed to ingest {:?}: {}", name, buf.error());
    }
    if (!written.ok()) {
      client_.AbortIngest(request.ref).IgnoreError();
      const Status& st = written.status();
      if (st.Is(Errc::kFailedPrecondition) || st.Is(Errc::kInvalidArgument)) {
        // The daemon's words are about the ingest (a commit refused, or a "resume" from the
        // copy another namespace holds that the input does not start like): say what it means.
        if (!request.expected.empty()) {
          return InvalidArgument("failed to ingest {:?}: its bytes do not match its digest {}",
                                 name, request.expected);
        }
        return InvalidArgument("failed to ingest {:?}: {}", name, st.message());
      }
      return st.Wrap(fmt::format("failed to ingest {:?}", name));
    }
    std::string head = buf.head();
    if (written->already_exists && head.empty() && size > 0) {
      // Nothing was read: the daemon had the blob. Its first bytes come from the store.
      auto first = ReadHead(written->digest);
      if (first.ok()) head = *first;
    }
    blobs_[name] = ArchiveBlob{written->digest, size, head};
    return Status::Ok();
  }

  Result<std::string> ReadHead(const std::string& digest) {
    std::string head;
    BERTH_RETURN_IF_ERROR(client_.ReadContent(
        digest,
        [&](std::string_view data) {
          head.append(data.substr(0, 16 - std::min<size_t>(16, head.size())));
          return Status::Ok();
        },
        0, 16));
    return head;
  }

  // The index the archive describes: index.json of an OCI layout, or one synthesized (and
  // stored) for a docker save archive.
  Result<Descriptor> IndexOfArchive() {
    if (!oci_version_.empty()) {
      if (oci_version_ != "1.0.0")
        return InvalidArgument("unsupported OCI version {}", oci_version_);
      auto it = blobs_.find("index.json");
      if (it == blobs_.end()) return InvalidArgument("missing index.json in OCI layout 1.0.0");
      return Descriptor{std::string(images::kOciIndex), it->second.digest, it->second.size, {}};
    }
    if (!docker_manifests_) {
      return InvalidArgument(
          "unrecognized image format: the archive has neither an OCI layout (oci-layout, "
          "index.json) nor a docker manifest.json");
    }
    for (const auto& [name, target] : symlinks_) {
      auto it = blobs_.find(target);
      if (it == blobs_.end()) {
        // Only layers are linked; a link to nothing matters only if a manifest names it.
        continue;
      }
      blobs_[name] = it->second;
    }
    json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
    for (const auto& m : *docker_manifests_) {
      auto config = blobs_.find(m.config);
      if (config == blobs_.end())
        return InvalidArgument("image config {:?} not found in the archive", m.config);
      json layers = json::array();
      for (const auto& path : m.layers) {
        auto layer = blobs_.find(path);
        if (layer == blobs_.end()) {
          if (symlinks_.contains(path)) {
            return InvalidArgument("no target for symlink layer from {:?} to {:?}", path,
                                   symlinks_.at(path));
          }
          return InvalidArgument("layer {:?} not found in the archive", path);
        }
        layers.push_back({{"mediaType", DockerLayerMediaType(layer->second.head)},
                          {"digest", layer->second.digest},
                          {"size", layer->second.size}});
      }
      json manifest = {{"schemaVersion", 2},
                       {"mediaType", std::string(images::kDockerManifest)},
                       {"config",
                        {{"mediaType", std::string(images::kDockerConfig)},
                         {"digest", config->second.digest},
                         {"size", config->second.size}}},
                       {"layers", std::move(layers)}};
      BERTH_ASSIGN_OR_RETURN(Descriptor desc,
                             WriteJsonBlob(manifest.dump(), std::string(images::kDockerManifest)));
      json entry = {{"mediaType", desc.media_type}, {"digest", desc.digest}, {"size", desc.size}};
      BERTH_ASSIGN_OR_RETURN(std::string config_json,
                             client_.ReadContentBlob(config->second.digest, kJsonLimit));
      json config_doc = json::parse(config_json, nullptr, false);
      json platform = json::object();
      if (config_doc.is_object() && !StringField(config_doc, "os").empty()) {
        images::Platform p = images::NormalizePlatform({StringField(config_doc, "os"),
                                                        StringField(config_doc, "architecture"),
                                                        StringField(config_doc, "variant")});
        platform = {{"architecture", p.architecture}, {"os", p.os}};
        if (!p.variant.empty()) platform["variant"] = p.variant;
      }
      if (m.repo_tags.empty()) {
        if (!platform.empty()) entry["platform"] = platform;
        index["manifests"].push_back(entry);
      }
      for (const auto& tag : m.repo_tags) {
        auto normalized = NormalizeDockerRef(tag);
        if (!normalized.ok()) return normalized.status().Wrap("normalize image ref");
        json named = entry;
        named["annotations"] = {{kImageNameAnnotation, *normalized},
                                {kRefNameAnnotation, OciRefName(*normalized)}};
        if (!platform.empty()) named["platform"] = platform;
        index["manifests"].push_back(std::move(named));
      }
    }
    return WriteJsonBlob(index.dump(), std::string(images::kOciIndex));
  }

  Result<Descriptor> WriteJsonBlob(const std::string& data, const std::string& media_type) {
    Descriptor desc{media_type, images::Sha256Digest(data), static_cast<int64_t>(data.size()), {}};
    std::istringstream in(data);
    ContentWriteRequest request;
    request.ref = "manifest-" + desc.digest;
    request.expected = desc.digest;
    request.size = desc.size;
    auto written = client_.WriteContent(in, request);
    if (!written.ok()) return written.status().Wrap(fmt::format("failed to write {}", desc.digest));
    return desc;
  }

  // Whether `have` is the platform asked for (strictly) or, when none was, runs on the host.
  bool Matches(const images::Platform& platform) const {
    images::Platform have = images::NormalizePlatform(platform);
    if (options_.platform) {
      images::Platform want = images::NormalizePlatform(*options_.platform);
      return want.os == have.os && want.architecture == have.architecture &&
             want.variant == have.variant;
    }
    return images::MatchPlatform(images::HostPlatform(), have);
  }

  // Whether an index's child is walked: all platforms, the asked one strictly, or the host's.
  bool Wanted(const BlobDescriptor& child) const {
    return options_.all_platforms || !child.platform || Matches(*child.platform);
  }

  // Whether an image of the archive is unpacked: only for the platform asked for (or the
  // host's), whatever was walked. The platform is the descriptor's, else what the image's
  // blobs say; an image whose platforms cannot be read is unpacked (and fails clearly there).
  bool UnpackWanted(const BlobDescriptor& target) {
    if (target.platform) return Matches(*target.platform);
    images::FetchBlob fetch = [this](const BlobDescriptor& d) {
      return client_.ReadContentBlob(d.digest, kJsonLimit);
    };
    auto platforms = images::ImagePlatforms(target, fetch);
    if (!platforms.ok() || platforms->empty()) return true;
    return std::any_of(platforms->begin(), platforms->end(),
                       [this](const images::Platform& p) { return Matches(p); });
  }

  // client.Import's walk: images named from the top index's descriptors; every index and
  // manifest reached (platform filtered) labelled with its children; every leaf checked.
  Result<std::vector<Image>> Walk(const Descriptor& index) {
    std::vector<Image> out;
    if (!options_.index_name.empty()) {
      out.push_back(Image{options_.index_name, {}, index, {}, {}});
      if (options_.unpack && UnpackWanted(index)) {
        unpack_.insert(options_.index_name);
      }
    }
    BERTH_ASSIGN_OR_RETURN(std::string blob, client_.ReadContentBlob(index.digest, kJsonLimit));
    json doc = json::parse(blob, nullptr, false);
    if (!doc.is_object() || !doc.contains("manifests") || !doc["manifests"].is_array()) {
      return InvalidArgument("index.json of the archive is not an image index");
    }
    const std::string prefix =
        options_.base_name.empty()
            ? "import-" + FormatRfc3339(std::chrono::time_point_cast<TimePoint::duration>(
                                            std::chrono::system_clock::now()))
                              .substr(0, 10)
            : options_.base_name;
    for (const auto& m : doc["manifests"]) {
      if (!m.is_object())
        return InvalidArgument("index.json of the archive: a manifest is not an object");
      Descriptor desc{
          StringField(m, "mediaType"), StringField(m, "digest"), m.value("size", int64_t{0}), {}};
      if (auto a = m.find("annotations"); a != m.end() && a->is_object()) {
        for (const auto& [k, v] : a->items()) {
          if (v.is_string()) desc.annotations[k] = v.get<std::string>();
        }
      }
      // Every image is created, whatever its platform (as containerd's import): the
      // platform decides only what is walked (below) and unpacked.
      BlobDescriptor target = desc;
      if (auto p = m.find("platform"); p != m.end() && p->is_object()) {
        target.platform = images::Platform{StringField(*p, "os"), StringField(*p, "architecture"),
                                           StringField(*p, "variant")};
      }
      std::string name;
      if (auto it = desc.annotations.find(kImageNameAnnotation); it != desc.annotations.end()) {
        name = it->second;
      } else if (auto ref = desc.annotations.find(kRefNameAnnotation);
                 ref != desc.annotations.end()) {
        name = TranslateRefName(ref->second, prefix, !options_.base_name.empty());
      }
      std::vector<std::string> names;
      if (!name.empty()) names.push_back(name);
      if (options_.digests) names.push_back(prefix + "@" + desc.digest);
      const bool unpack = !names.empty() && options_.unpack && UnpackWanted(target);
      for (auto& n : names) {
        if (unpack) unpack_.insert(n);
        out.push_back(Image{std::move(n), {}, desc, {}, {}});
      }
    }
    BERTH_ASSIGN_OR_RETURN(size_t children, LabelTree(index, blob));
    if (children == 0) {
      return NotFound(
          "no image in the archive for platform {}",
          options_.all_platforms
              ? "any"
              : images::FormatPlatform(options_.platform.value_or(images::HostPlatform())));
    }
    return out;
  }

  // Labels `desc` (whose bytes are `blob`) with its wanted children and walks them; returns
  // how many children it has.
  Result<size_t> LabelTree(const BlobDescriptor& desc, const std::string& blob) {
    auto all = images::Children(desc, blob);
    if (!all.ok()) return all.status().Wrap(fmt::format("blob {}", desc.digest));
    std::vector<BlobDescriptor> children;
    for (auto& child : *all) {
      if (!images::IsIndexType(desc.media_type) || Wanted(child))
        children.push_back(std::move(child));
    }
    if (!children.empty()) {
      labels::Labels labels = images::ChildGcLabels(children);
      std::vector<std::string> paths;
      for (const auto& [k, v] : labels) paths.push_back("labels." + k);
      auto updated = client_.UpdateContentLabels(desc.digest, labels, paths);
      if (!updated.ok())
        return updated.status().Wrap(fmt::format("failed to label {}", desc.digest));
    }
    for (const auto& child : children) {
      if (images::IsIndexType(child.media_type) || images::IsManifestType(child.media_type)) {
        auto child_blob = client_.ReadContentBlob(child.digest, kJsonLimit);
        if (!child_blob.ok()) return Missing(child, child_blob.status());
        BERTH_RETURN_IF_ERROR(LabelTree(child, *child_blob).status());
      } else if (auto info = client_.GetContentInfo(child.digest); !info.ok()) {
        return Missing(child, info.status());
      }
    }
    return children.size();
  }

  Status Missing(const BlobDescriptor& desc, const Status& why) {
    if (why.Is(Errc::kNotFound)) {
      return InvalidArgument("blob {} ({}) is not in the archive", desc.digest, desc.media_type);
    }
    return why;
  }

  Client& client_;
  const ImportOptions& options_;
  std::string oci_version_;
  std::optional<std::vector<DockerManifestEntry>> docker_manifests_;
  std::map<std::string, ArchiveBlob> blobs_;     // cleaned entry name -> blob
  std::map<std::string, std::string> symlinks_;  // entry name -> cleaned target
  std::set<std::string> unpack_;                 // names of the images to unpack
};

}  // namespace

Result<std::vector<Image>> ImportImages(Client& client, std::istream& in,
                                        const ImportOptions& options) {
  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  return Importer(lease.client(), options).Run(in);
}

}  // namespace berth::client
