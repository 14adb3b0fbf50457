// Image names as containerd's images/archive handles them (reference.go): docker's normalized
// and familiar forms of a reference, the OCI ref name (the tag) of a full name, and ctr
// import's prefixing of tag-only names. Pure string functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::client {

// The annotations an archive's index.json names an image by: the full name
// (images.AnnotationImageName) and the OCI ref name (ocispec.AnnotationRefName).
inline constexpr const char* kImageNameAnnotation = "io.containerd.image.name";
inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";

// docker's ParseDockerRef: "busybox" -> "docker.io/library/busybox:latest", a tag added when
// there is neither tag nor digest, the tag dropped when there is a digest. InvalidArgument
// naming the reference when it is malformed (upper case, bad tag or digest, empty).
Result<std::string> NormalizeDockerRef(std::string_view ref);

// docker's FamiliarString(TagNameOnly(ParseNormalizedNamed(ref))): the short form Docker's
// manifest.json RepoTags use ("docker.io/library/busybox:latest" -> "busybox:latest").
Result<std::string> FamiliarizeRef(std::string_view ref);

// The org.opencontainers.image.ref.name of a full name: what follows the repository ("1" for
// "host/repo:1", "1@sha256:..." or "@sha256:..." with a digest); the name itself when it has
// no host part.
std::string OciRefName(std::string_view name);

// ctr import's name translation of an OCI ref name: a full reference (one with '/', ':' or
// '@') is kept, or with `check_prefix` kept only when it is `prefix` or below it ("" if not);
// a bare tag becomes prefix:tag.
std::string TranslateRefName(std::string_view ref, std::string_view prefix, bool check_prefix);

}  // namespace berth::client
