// OCI digests ("sha256:<64 hex>", "sha512:<128 hex>"): parsing, validation, hashing.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::content {

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
  static Result<Hasher> New(std::string_view algorithm);
  void Update(const void* data, size_t size);
  Digest Finish();  // the hasher may not be used afterwards

  // The digest state as it stands, without finishing (used to report progress).
  Digest Peek() const;

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  Hasher(std::string algorithm, std::unique_ptr<EVP_MD_CTX, CtxFree> ctx)
      : algorithm_(std::move(algorithm)), ctx_(std::move(ctx)) {}
  std::string algorithm_;
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

// The sha256 digest of `data`.
Digest Sha256Of(std::string_view data);

}  // namespace berth::content
