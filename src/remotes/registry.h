// A registry client on libcurl speaking the OCI distribution spec (and Docker's registry v2):
// resolve tags to manifest or index descriptors, fetch manifests and blobs (Range resume,
// retries with backoff), and push blobs (existence check, cross-repo mount, upload) and
// manifests. Authentication follows the WWW-Authenticate challenge: Basic with the host's
// credentials, or Bearer with a token fetched from the realm (an identity token by OAuth2 POST,
// falling back to GET; a user and password by GET with Basic; anonymously otherwise) for the
// request's scope and the challenge's, cached per scope. The credentials function is asked once
// per Registry. Credentials go to the registry's own origin only, never to an upload Location
// or a redirect on another host; URLs in messages and logs lose their query and user info
// (upload state, storage signatures). Only idempotent requests are resent after a 5xx: a
// chunk's PATCH is sent once.
//
// One Registry per host; its methods are thread-safe (each call uses its own curl handle, the
// token cache is shared), so blobs can be fetched in parallel from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "images/walk.h"
#include "remotes/reference.h"
#include "remotes/types.h"

namespace berth::remotes {

// The media types a resolve accepts (Accept header), in preference order.
inline constexpr std::string_view kManifestAcceptTypes[] = {
    images::kOciIndex,
    images::kDockerManifestList,
    images::kOciManifest,
    images::kDockerManifest,
};

// Errors map to containerd's kinds, and their messages name the reference or digest and the
// registry host:
//   401, 403 (after one authentication attempt)  -> kFailedPrecondition "...: unauthorized"
//   404                                          -> kNotFound
//   connection / TLS / timeout after retries     -> kUnavailable (with curl's message)
//   digest or size mismatch                      -> kFailedPrecondition
//   other HTTP statuses                          -> kUnknown, with the registry's error text
class Registry {
 public:
  // `host` as in a reference's domain ("127.0.0.1:5000", "docker.io" is mapped by RegistryHost).
  static Result<std::unique_ptr<Registry>> Open(std::string host, RegistryOptions options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  const std::string& host() const;

  // The descriptor `ref` names (HEAD /v2/<path>/manifests/<object>, falling back to GET when
  // HEAD gives no digest or size; the digest is checked when `ref` has one).
  Result<Descriptor> Resolve(const Reference& ref);

  // A manifest or index by digest (GET /manifests/<digest>); the bytes are verified against
  // desc.digest and desc.size (size capped at 4 MiB). media_type of the answer is kept in
  // `media_type_out` when given.
  Result<std::string> FetchManifest(const std::string& repository_path, const Descriptor& desc,
                                    std::string* media_type_out = nullptr);

  // Streams blob bytes [offset, desc.size) to `sink` (GET /blobs/<digest> with a Range header
  // when offset > 0; a registry that ignores Range is handled by skipping the first `offset`
  // bytes). Transient failures are retried from where the sink has got to. The caller checks
  // the digest (the content store does on commit); the byte count is checked here.
  Status FetchBlob(const std::string& repository_path, const Descriptor& desc, int64_t offset,
                   const BlobSink& sink);

  // Whether the repository has the blob (HEAD /blobs/<digest>).
  Result<bool> BlobExists(const std::string& repository_path, const std::string& digest);

  // Cross-repository mount (POST /blobs/uploads/?mount=<digest>&from=<repo>): true when the
  // registry mounted it, false when it did not (the caller then uploads).
  Result<bool> MountBlob(const std::string& repository_path, const std::string& from_path,
                         const std::string& digest);

  // Uploads a blob: POST /blobs/uploads/ then a single PUT ?digest= with the body
  // (monolithic) when desc.size <= chunk_size, else PATCH chunks of chunk_size and a final PUT.
  Status PushBlob(const std::string& repository_path, const Descriptor& desc,
                  const BlobSource& source, int64_t chunk_size = 64 << 20);

  // PUT /manifests/<tag or digest> with Content-Type = media_type; checks the digest the
  // registry answers (Docker-Content-Digest) equals the bytes' digest.
  Status PushManifest(const std::string& repository_path, const std::string& tag_or_digest,
                      const std::string& media_type, std::string_view manifest);

 private:
  struct Impl;
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::remotes
