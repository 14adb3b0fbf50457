// OCI digests ("sha256:<64 hex>", "sha512:<128 hex>"): parsing, validation, hashing. The one
// hasher in berth (OpenSSL's EVP underneath): the content store, the differ, the client's
// ingest and export checks, the registry client and the shim's socket names all use it.
//
// Thread-safety: Digest is a value; a Hasher is used by one thread at a time.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth {

struct Digest {
  std::string algorithm;  // "sha256" or "sha512"
  std::string hex;        // lower-case hex of the hash

  std::string String() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;
};

// InvalidArgument for anything but a supported algorithm with the right number of lower-case
// hex digits (containerd's go-digest Validate).
Result<Digest> ParseDigest(std::string_view s);

// Incremental hashing for one algorithm.
class Hasher {
 public:
  // InvalidArgument for an algorithm other than sha256 and sha512.
  static Result<Hasher> New(std::string_view algorithm);
  // A hasher for the algorithm that `digest` ("<algorithm>:<hex>") names, to check bytes against
  // it as they stream past; InvalidArgument as New (then they cannot be checked here).
  static Result<Hasher> ForDigest(std::string_view digest);
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  Digest Finish();  // the hasher may not be used afterwards

  // The digest state as it stands, without finishing (used to report progress).
  Digest Peek() const;

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const;
  };
  Hasher(std::string algorithm, std::unique_ptr<EVP_MD_CTX, CtxFree> ctx)
      : algorithm_(std::move(algorithm)), ctx_(std::move(ctx)) {}
  std::string algorithm_;
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

// The digest of `data` in `algorithm` (InvalidArgument as Hasher::New).
Result<Digest> DigestOf(std::string_view algorithm, std::string_view data);
// The sha256 digest of `data`.
Digest Sha256Of(std::string_view data);

}  // namespace berth
