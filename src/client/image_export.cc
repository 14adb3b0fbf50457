// ExportImages: containerd 1.6's images/archive.Export onto libarchive.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "client/image_export.h"
#include "client/image_names.h"
#include "client/tar_archive.h"
#include "common/digest.h"

namespace berth::client {
namespace {

using images::BlobDescriptor;
using json = nlohmann::ordered_json;

inline constexpr int64_t kJsonLimit = 20 << 20;

// "blobs/<alg>/<hex>"; InvalidArgument for a digest without an algorithm.
Result<std::string> BlobPath(const std::string& digest) {
  auto colon = digest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == digest.size() ||
      digest.find('/') != std::string::npos) {
    return InvalidArgument("invalid digest {:?}", digest);
  }
  return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

json DescriptorJson(const Descriptor& d) {
  json out = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) {
    json annotations = json::object();
    for (const auto& [k, v] : d.annotations) annotations[k] = v;  // std::map: sorted, as Go's
    out["annotations"] = std::move(annotations);
  }
  return out;
}

// What goes into the archive and into manifest.json.
class Exporter {
 public:
  Exporter(Client& client, const ExportOptions& options)
      : client_(client),
        options_(options),
        platform_(options.platform.value_or(images::HostPlatform())) {}

  Status Run(std::ostream& out) {
    if (options_.images.empty()) return InvalidArgument("no image to export");
    std::vector<Descriptor> manifests;
    for (const auto& name : options_.images) {
      auto image = client_.GetImage(name);
      if (!image.ok()) return image.status().Wrap(fmt::format("image {:?}", name));
      Descriptor target = image->target;
      target.annotations[kImageNameAnnotation] = name;
      target.annotations[kRefNameAnnotation] = OciRefName(name);
      manifests.push_back(std::move(target));
    }
    for (const auto& desc : manifests) BERTH_RETURN_IF_ERROR(AddImage(desc));

    json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
    for (const auto& m : manifests) index["manifests"].push_back(DescriptorJson(m));
    files_["oci-layout"] = {0444, R"({"imageLayoutVersion":"1.0.0"})"};
    files_["index.json"] = {0644, index.dump()};
    if (!docker_.empty()) {
      BERTH_ASSIGN_OR_RETURN(std::string manifest_json, DockerManifestJson());
      files_["manifest.json"] = {0644, std::move(manifest_json)};
    }
    return Write(out);
  }

 private:
  struct DockerManifest {
    BlobDescriptor manifest;
    std::vector<std::string> names;
  };
  struct File {
    int mode = 0644;
    std::string data;
  };

  Status AddImage(const Descriptor& target) {
    const BlobDescriptor& desc = target;
    auto name_it = target.annotations.find(kImageNameAnnotation);
    const std::string name = name_it == target.annotations.end() ? "" : name_it->second;
    if (images::IsManifestType(desc.media_type)) {
      BERTH_RETURN_IF_ERROR(AddTree(desc));
      if (!options_.skip_manifest_json) {
        DockerManifest& dm = DockerEntry(desc);
        if (!name.empty()) dm.names.push_back(name);
      }
      return Status::Ok();
    }
    if (!images::IsIndexType(desc.media_type)) {
      return InvalidArgument("image {:?}: only manifests may be exported, not {}", name,
                             desc.media_type);
    }
    auto resolved = resolved_index_.find(desc.digest);
    if (resolved == resolved_index_.end()) {
      BERTH_RETURN_IF_ERROR(AddBlob(desc));
      BERTH_ASSIGN_OR_RETURN(std::string blob, Fetch(desc));
      auto children = images::Children(desc, blob);
      if (!children.ok()) return children.status().Wrap(fmt::format("index {}", desc.digest));
      std::vector<BlobDescriptor> matching;
      for (const auto& child : *children) {
        const bool matches =
            !child.platform ||
            images::MatchPlatform(platform_, images::NormalizePlatform(*child.platform));
        if (matches) {
          matching.push_back(child);
        } else if (!options_.all_platforms) {
          continue;
        }
        BERTH_RETURN_IF_ERROR(AddTree(child));
      }
      std::string chosen;
      if (!options_.skip_manifest_json) {
        // The best match: the first with a platform, those without one last.
        std::stable_partition(matching.begin(), matching.end(),
                              [](const BlobDescriptor& d) { return d.platform.has_value(); });
        if (matching.empty()) {
          return NotFound("image {:?}: no manifest found for platform {}", name,
                          images::FormatPlatform(platform_));
        }
        chosen = matching.front().digest;
        DockerEntry(matching.front());
      }
      resolved = resolved_index_.emplace(desc.digest, chosen).first;
    }
    if (!resolved->second.empty() && !name.empty()) {
      for (auto& dm : docker_) {
        if (dm.manifest.digest == resolved->second) dm.names.push_back(name);
      }
    }
    return Status::Ok();
  }

  DockerManifest& DockerEntry(const BlobDescriptor& manifest) {
    for (auto& dm : docker_) {
      if (dm.manifest.digest == manifest.digest) return dm;
    }
    docker_.push_back(DockerManifest{manifest, {}});
    return docker_.back();
  }

  // The blob and everything below it (containerd's ChildrenHandler walk: all of an index).
  Status AddTree(const BlobDescriptor& desc) {
    BERTH_RETURN_IF_ERROR(AddBlob(desc));
    if (!images::IsIndexType(desc.media_type) && !images::IsManifestType(desc.media_type)) {
      return Status::Ok();
    }
    BERTH_ASSIGN_OR_RETURN(std::string blob, Fetch(desc));
    auto children = images::Children(desc, blob);
    if (!children.ok()) return children.status().Wrap(fmt::format("blob {}", desc.digest));
    for (const auto& child : *children) BERTH_RETURN_IF_ERROR(AddTree(child));
    return Status::Ok();
  }

  Status AddBlob(const BlobDescriptor& desc) {
    BERTH_ASSIGN_OR_RETURN(std::string path, BlobPath(desc.digest));
    blobs_.emplace(path, desc);
    return Status::Ok();
  }

  Result<std::string> Fetch(const BlobDescriptor& desc) {
    auto blob = client_.ReadContentBlob(desc.digest, kJsonLimit);
    if (!blob.ok()) return blob.status().Wrap(fmt::format("failed to read {}", desc.digest));
    return blob;
  }

  Result<std::string> DockerManifestJson() {
    json out = json::array();
    for (const auto& dm : docker_) {
      BERTH_ASSIGN_OR_RETURN(std::string blob, Fetch(dm.manifest));
      auto parsed = images::Children(dm.manifest, blob);
      if (!parsed.ok() || parsed->empty() || !images::IsConfigType(parsed->front().media_type)) {
        return InvalidArgument("invalid manifest {:?}: no config", dm.manifest.digest);
      }
      json entry = json::object();
      BERTH_ASSIGN_OR_RETURN(entry["Config"], BlobPath(parsed->front().digest));
      json tags = nullptr;
      for (const auto& name : dm.names) {
        auto familiar = FamiliarizeRef(name);
        if (!familiar.ok()) return familiar.status().Wrap("unable to create manifests file");
        if (tags.is_null()) tags = json::array();
        tags.push_back(*familiar);
      }
      entry["RepoTags"] = std::move(tags);
      json layers = nullptr;
      for (size_t i = 1; i < parsed->size(); ++i) {
        BERTH_ASSIGN_OR_RETURN(std::string path, BlobPath((*parsed)[i].digest));
        if (layers.is_null()) layers = json::array();
        layers.push_back(std::move(path));
      }
      entry["Layers"] = std::move(layers);
      out.push_back(std::move(entry));
    }
    return out.dump();
  }

  // Entries sorted by name, as containerd's writeTar.
  Status Write(std::ostream& out) {
    std::set<std::string> dirs;
    for (const auto& [path, desc] : blobs_) {
      dirs.insert("blobs/");
      dirs.insert(path.substr(0, path.rfind('/') + 1));
    }
    std::set<std::string> names(dirs.begin(), dirs.end());
    for (const auto& [path, desc] : blobs_) names.insert(path);
    for (const auto& [path, file] : files_) names.insert(path);

    TarWriter tar(out);
    BERTH_RETURN_IF_ERROR(tar.Open());
    for (const auto& name : names) {
      if (dirs.contains(name)) {
        BERTH_RETURN_IF_ERROR(tar.AddDirectory(name, 0755));
      } else if (auto f = files_.find(name); f != files_.end()) {
        BERTH_RETURN_IF_ERROR(tar.AddFile(name, f->second.mode, f->second.data));
      } else {
        BERTH_RETURN_IF_ERROR(CopyBlob(tar, name, blobs_.at(name)));
      }
    }
    return tar.Close();
  }

  Status CopyBlob(TarWriter& tar, const std::string& path, const BlobDescriptor& desc) {
    BERTH_RETURN_IF_ERROR(tar.BeginFile(path, 0444, desc.size));
    auto digester = Hasher::ForDigest(desc.digest);  // checked as copied, as containerd's blobRecord
    int64_t copied = 0;
    Status st = client_.ReadContent(desc.digest, [&](std::string_view data) -> Status {
      if (copied + static_cast<int64_t>(data.size()) > desc.size) {
        return FailedPrecondition("blob {} is larger than its descriptor's {} bytes", desc.digest,
                                  desc.size);
      }
      copied += static_cast<int64_t>(data.size());
      if (digester.ok()) digester->Update(data);
      return tar.Write(data);
    });
    if (!st.ok()) return st.Wrap(fmt::format("failed to copy {} to the archive", desc.digest));
    if (copied != desc.size) {
      return FailedPrecondition("unexpected copy size for {}: {} bytes, want {}", desc.digest,
                                copied, desc.size);
    }
    if (digester.ok()) {
      if (std::string got = digester->Finish().String(); got != desc.digest) {
        return FailedPrecondition("unexpected digest {} copied for {}", got, desc.digest);
      }
    }
    return Status::Ok();
  }

  Client& client_;
  const ExportOptions& options_;
  const images::Platform platform_;
  std::map<std::string, BlobDescriptor> blobs_;        // path -> blob
  std::map<std::string, File> files_;                  // oci-layout, index.json, manifest.json
  std::map<std::string, std::string> resolved_index_;  // index digest -> its manifest for docker
  std::vector<DockerManifest> docker_;                 // in the order the images came
};

}  // namespace

Status ExportImages(Client& client, std::ostream& out, const ExportOptions& options) {
  return Exporter(client, options).Run(out);
}

}  // namespace berth::client
