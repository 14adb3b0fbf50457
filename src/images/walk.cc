#include "images/walk.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace berth::images {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<BlobDescriptor> ParseDescriptor(const json& j, const BlobDescriptor& parent) {
  if (!j.is_object()) {
    return InvalidArgument("{} {}: a descriptor is not an object", parent.media_type,
                           parent.digest);
  }
  BlobDescriptor d;
  d.media_type = StringField(j, "mediaType");
  d.digest = StringField(j, "digest");
  if (auto size = j.find("size"); size != j.end() && size->is_number_integer()) {
    d.size = size->get<int64_t>();
    if (d.size < 0) {
      return InvalidArgument("{} {}: a descriptor has a negative size", parent.media_type, parent.digest);
    }
  }
  if (d.digest.empty()) {
    return InvalidArgument("{} {}: a descriptor has no digest", parent.media_type, parent.digest);
  }
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform = Platform{StringField(*p, "os"), StringField(*p, "architecture"),
                          StringField(*p, "variant")};
  }
  return d;
}

Result<json> ParseJson(const BlobDescriptor& desc, std::string_view blob) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("{} {}: not a JSON object", desc.media_type, desc.digest);
  }
  return j;
}

// The platform a config names (os, architecture), normalized.
Result<Platform> ConfigPlatform(const BlobDescriptor& config, const FetchBlob& fetch) {
  BERTH_ASSIGN_OR_RETURN(std::string blob, fetch(config));
  BERTH_ASSIGN_OR_RETURN(json j, ParseJson(config, blob));
  return NormalizePlatform(Platform{StringField(j, "os"), StringField(j, "architecture"), ""});
}

// images.Manifest's walk; nullopt when the manifest reached is for another platform.
Result<std::optional<ParsedManifest>> Resolve(const BlobDescriptor& desc, bool root,
                                              const Platform& platform, const FetchBlob& fetch,
                                              bool* was_index) {
  if (IsManifestType(desc.media_type)) {
    BERTH_ASSIGN_OR_RETURN(std::string blob, fetch(desc));
    BERTH_ASSIGN_OR_RETURN(auto children, Children(desc, blob));
    if (children.empty()) return InvalidArgument("manifest {}: no config", desc.digest);
    ParsedManifest manifest{children.front(), {children.begin() + 1, children.end()}};
    if (!root) {
      if (desc.platform && !MatchPlatform(platform, *desc.platform)) return std::optional<ParsedManifest>();
      if (!desc.platform) {
        BERTH_ASSIGN_OR_RETURN(Platform p, ConfigPlatform(manifest.config, fetch));
        if (!MatchPlatform(platform, p)) return std::optional<ParsedManifest>();
      }
    }
    return std::optional<ParsedManifest>(std::move(manifest));
  }
  if (IsIndexType(desc.media_type)) {
    BERTH_ASSIGN_OR_RETURN(std::string blob, fetch(desc));
    BERTH_ASSIGN_OR_RETURN(auto children, Children(desc, blob));
    *was_index = true;
    auto candidates = PlatformCandidates(std::move(children), platform);
    if (candidates.empty()) return std::optional<ParsedManifest>();
    return Resolve(candidates.front(), false, platform, fetch, was_index);  // limit 1
  }
  BERTH_RETURN_IF_ERROR(CheckNotSchema1(desc));
  return NotFound("unexpected media type {} for {}", desc.media_type, desc.digest);
}

void WalkSize(const BlobDescriptor& desc, const Platform& platform, const FetchBlob& fetch,
              int64_t& size, Status& error) {
  if (!error.ok()) return;
  if (__builtin_add_overflow(size, desc.size, &size)) {  // sizes come from the registry
    error = InvalidArgument("{} {}: the image's size overflows", desc.media_type, desc.digest);
    return;
  }
  if (!IsIndexType(desc.media_type) && !IsManifestType(desc.media_type)) return;
  auto blob = fetch(desc);
  if (!blob.ok()) {
    error = blob.status();
    return;
  }
  auto children = Children(desc, *blob);
  if (!children.ok()) {
    error = children.status();
    return;
  }
  std::vector<BlobDescriptor> next = std::move(children).value();
  std::erase_if(next, [&](const BlobDescriptor& d) {
    return d.platform && !MatchPlatform(platform, *d.platform);
  });
  next = ChildrenToFetch(desc, std::move(next), platform);  // what a pull fetches
  if (IsIndexType(desc.media_type) && next.empty()) {
    error = NotFound("no match for platform in manifest {}", desc.digest);
    return;
  }
  for (const auto& child : next) WalkSize(child, platform, fetch, size, error);
}

Status WalkPlatforms(const BlobDescriptor& desc, const FetchBlob& fetch,
                     std::vector<Platform>& out) {
  if (desc.platform) {
    out.push_back(*desc.platform);
    return Status::Ok();
  }
  if (IsConfigType(desc.media_type)) {
    BERTH_ASSIGN_OR_RETURN(Platform p, ConfigPlatform(desc, fetch));
    out.push_back(std::move(p));
    return Status::Ok();
  }
  if (!IsIndexType(desc.media_type) && !IsManifestType(desc.media_type)) return Status::Ok();
  BERTH_ASSIGN_OR_RETURN(std::string blob, fetch(desc));
  BERTH_ASSIGN_OR_RETURN(auto children, Children(desc, blob));
  for (const auto& child : children) BERTH_RETURN_IF_ERROR(WalkPlatforms(child, fetch, out));
  return Status::Ok();
}

}  // namespace

bool IsIndexType(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerManifestList;
}

bool IsManifestType(std::string_view media_type) {
  return media_type == kOciManifest || media_type == kDockerManifest;
}

bool IsConfigType(std::string_view media_type) {
  return media_type == kOciConfig || media_type == kDockerConfig;
}

bool IsSchema1ManifestType(std::string_view media_type) {
  return media_type == kDockerSchema1Manifest || media_type == kDockerSchema1SignedManifest;
}

Status CheckNotSchema1(const BlobDescriptor& desc) {
  if (!IsSchema1ManifestType(desc.media_type)) return Status::Ok();
  return FailedPrecondition(
      "manifest {}: Docker schema 1 manifests ({}) are not supported; push the image again as "
      "Docker schema 2 or OCI",
      desc.digest, desc.media_type);
}

Platform NormalizePlatform(Platform p) {
  p.os = Lower(p.os);
  if (p.os == "macos") p.os = "darwin";
  std::string arch = Lower(p.architecture);
  std::string variant = Lower(p.variant);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8") variant.clear();
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") variant = "v7";
    else if (variant == "5" || variant == "6" || variant == "8") variant = "v" + variant;
  }
  p.architecture = arch;
  p.variant = variant;
  return p;
}

std::string FormatPlatform(const Platform& p) {
  if (p.os.empty()) return "unknown";
  std::string out = p.os;
  for (const std::string* part : {&p.architecture, &p.variant}) {
    if (!part->empty()) out += "/" + *part;
  }
  return out;
}

bool MatchPlatform(const Platform& want, const Platform& have) {
  Platform w = NormalizePlatform(want);
  Platform h = NormalizePlatform(have);
  return w.os == h.os && w.architecture == h.architecture &&
         (w.variant.empty() || w.variant == h.variant);
}

Platform HostPlatform() {
  utsname u{};
  std::string machine = ::uname(&u) == 0 ? u.machine : "";
  Platform p{"linux", machine, ""};
  if (machine.starts_with("armv")) {
    p.architecture = "arm";
    p.variant = machine.substr(3, 2);  // "v7" of armv7l
  }
  return NormalizePlatform(p);
}

Result<Platform> ParsePlatform(std::string_view spec) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = spec.find('/', start);
    parts.emplace_back(spec.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3 || std::any_of(parts.begin(), parts.end(),
                                      [](const std::string& p) { return p.empty(); })) {
    return InvalidArgument("invalid platform {:?}: want os/arch[/variant]", spec);
  }
  Platform p{parts[0], parts.size() > 1 ? parts[1] : "", parts.size() > 2 ? parts[2] : ""};
  if (p.architecture.empty()) p.architecture = HostPlatform().architecture;
  return NormalizePlatform(std::move(p));
}

Result<std::vector<BlobDescriptor>> Children(const BlobDescriptor& desc, std::string_view blob) {
  BERTH_RETURN_IF_ERROR(CheckNotSchema1(desc));
  std::vector<BlobDescriptor> out;
  const bool index = IsIndexType(desc.media_type);
  if (!index && !IsManifestType(desc.media_type)) return out;
  BERTH_ASSIGN_OR_RETURN(json j, ParseJson(desc, blob));
  if (index) {
    auto manifests = j.find("manifests");
    if (manifests == j.end() || !manifests->is_array()) return out;
    for (const auto& m : *manifests) {
      BERTH_ASSIGN_OR_RETURN(BlobDescriptor d, ParseDescriptor(m, desc));
      out.push_back(std::move(d));
    }
    return out;
  }
  auto config = j.find("config");
  if (config == j.end()) return InvalidArgument("manifest {}: no config", desc.digest);
  BERTH_ASSIGN_OR_RETURN(BlobDescriptor c, ParseDescriptor(*config, desc));
  out.push_back(std::move(c));
  if (auto layers = j.find("layers"); layers != j.end() && layers->is_array()) {
    for (const auto& l : *layers) {
      BERTH_ASSIGN_OR_RETURN(BlobDescriptor d, ParseDescriptor(l, desc));
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<BlobDescriptor> PlatformCandidates(std::vector<BlobDescriptor> children,
                                               const Platform& platform) {
  std::erase_if(children, [&](const BlobDescriptor& d) {
    return d.platform && !MatchPlatform(platform, *d.platform);
  });
  std::stable_partition(children.begin(), children.end(),
                        [](const BlobDescriptor& d) { return d.platform.has_value(); });
  return children;
}

bool IsCheckpointIndex(const std::vector<BlobDescriptor>& children) {
  return std::any_of(children.begin(), children.end(), [](const BlobDescriptor& d) {
    return d.media_type.starts_with(kCheckpointMediaTypePrefix);
  });
}

std::vector<BlobDescriptor> ChildrenToFetch(const BlobDescriptor& parent,
                                            std::vector<BlobDescriptor> children,
                                            const Platform& platform) {
  // A checkpoint is one whole: every blob of it (and the base image it names) is needed.
  if (!IsIndexType(parent.media_type) || IsCheckpointIndex(children)) return children;
  children = PlatformCandidates(std::move(children), platform);
  if (children.size() > 1) children.resize(1);
  return children;
}

Result<ParsedManifest> ResolveManifest(const BlobDescriptor& target, const Platform& platform,
                                       const FetchBlob& fetch) {
  bool was_index = false;
  BERTH_ASSIGN_OR_RETURN(auto manifest, Resolve(target, true, platform, fetch, &was_index));
  if (!manifest) {
    if (was_index) return NotFound("no match for platform in manifest {}", target.digest);
    return NotFound("manifest {}", target.digest);
  }
  return std::move(*manifest);
}

Result<CheckResult> CheckImage(const BlobDescriptor& target, const Platform& platform,
                               const FetchBlob& fetch, const HasBlob& has) {
  CheckResult result;
  auto manifest = ResolveManifest(target, platform, fetch);
  if (!manifest.ok()) {
    if (!manifest.status().Is(Errc::kNotFound)) {
      return manifest.status().Wrap(fmt::format("failed to check image {}", target.digest));
    }
    result.required = {target};
    result.missing = {target};
    return result;
  }
  result.available = true;
  result.required.push_back(manifest->config);
  result.required.insert(result.required.end(), manifest->layers.begin(), manifest->layers.end());
  for (const auto& desc : result.required) {
    BERTH_ASSIGN_OR_RETURN(bool present, has(desc));
    (present ? result.present : result.missing).push_back(desc);
  }
  return result;
}

int64_t ImageSize(const BlobDescriptor& target, const Platform& platform, const FetchBlob& fetch,
                  Status* error) {
  int64_t size = 0;
  Status status;
  WalkSize(target, platform, fetch, size, status);
  if (error != nullptr) *error = status;
  return size;
}

Result<std::vector<Platform>> ImagePlatforms(const BlobDescriptor& target, const FetchBlob& fetch) {
  std::vector<Platform> out;
  BERTH_RETURN_IF_ERROR(WalkPlatforms(target, fetch, out));
  return out;
}

}  // namespace berth::images
