#include "common/digest.h"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace berth {
namespace {

const EVP_MD* MdFor(std::string_view algorithm) {
  if (algorithm == "sha256") return EVP_sha256();
  if (algorithm == "sha512") return EVP_sha512();
  return nullptr;
}

std::string Hex(const unsigned char* p, unsigned n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xf];
  }
  return out;
}

}  // namespace

Result<Digest> ParseDigest(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("invalid digest {:?}: invalid checksum digest format", s);
  }
  std::string_view alg = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  const EVP_MD* md = MdFor(alg);
  if (md == nullptr) return InvalidArgument("invalid digest {:?}: unsupported digest algorithm", s);
  size_t want = static_cast<size_t>(EVP_MD_get_size(md)) * 2;
  if (hex.size() != want) return InvalidArgument("invalid digest {:?}: invalid checksum digest length", s);
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return InvalidArgument("invalid digest {:?}: invalid checksum digest format", s);
    }
  }
  return Digest{std::string(alg), std::string(hex)};
}

Result<Hasher> Hasher::New(std::string_view algorithm) {
  const EVP_MD* md = MdFor(algorithm);
  if (md == nullptr) return InvalidArgument("unsupported digest algorithm {:?}", algorithm);
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return Internal("initialise {} hasher", algorithm);
  }
  return Hasher(std::string(algorithm), std::move(ctx));
}

Result<Hasher> Hasher::ForDigest(std::string_view digest) {
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) return InvalidArgument("invalid digest {:?}", digest);
  return New(digest.substr(0, colon));
}

void Hasher::CtxFree::operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }

void Hasher::Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }

Digest Hasher::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx_.get(), out, &n);
  return Digest{algorithm_, Hex(out, n)};
}

Digest Hasher::Peek() const {
  std::unique_ptr<EVP_MD_CTX, CtxFree> copy(EVP_MD_CTX_new());
  EVP_MD_CTX_copy_ex(copy.get(), ctx_.get());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(copy.get(), out, &n);
  return Digest{algorithm_, Hex(out, n)};
}

Result<Digest> DigestOf(std::string_view algorithm, std::string_view data) {
  BERTH_ASSIGN_OR_RETURN(Hasher h, Hasher::New(algorithm));
  h.Update(data);
  return h.Finish();
}

Digest Sha256Of(std::string_view data) { return std::move(DigestOf("sha256", data)).value(); }

}  // namespace berth
