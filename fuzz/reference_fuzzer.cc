// Fuzz target: image references as berth's pull, push, images and the client read them
// (src/remotes/reference.h: `[domain/]path[:tag][@digest]`, normalised as docker does), the input
// being one reference string.
//
// Invariants: a refusal is InvalidArgument; a parsed reference has a valid shape (a domain and a
// path, no upper case in the path, a tag or a digest, "latest" when neither was given; a digest is
// sha256/sha512 hex; domain/path at most 255 bytes), Repository() and Object() agree with its
// fields, and its String() form parses back to the same reference, whose String() is the same
// (normalisation is idempotent).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "remotes/reference.h"

namespace berth::remotes {
namespace {

bool Same(const Reference& a, const Reference& b) {
  return a.domain == b.domain && a.path == b.path && a.tag == b.tag && a.digest == b.digest;
}

void CheckShape(const Reference& r) {
  FUZZ_CHECK(!r.domain.empty());
  FUZZ_CHECK(!r.path.empty());
  FUZZ_CHECK(r.domain != "index.docker.io");
  FUZZ_CHECK(r.domain.size() + 1 + r.path.size() <= 255);
  for (char c : r.path) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(!r.tag.empty() || !r.digest.empty());
  FUZZ_CHECK(r.tag.size() <= 128);
  if (!r.digest.empty()) {
    FUZZ_CHECK(r.digest.starts_with("sha256:") || r.digest.starts_with("sha512:"));
  }
  FUZZ_CHECK(r.Repository() == r.domain + "/" + r.path);
  FUZZ_CHECK(r.Object() == (r.digest.empty() ? r.tag : r.digest));
  FUZZ_CHECK(!RegistryHost(r.domain).empty());
}

}  // namespace
}  // namespace berth::remotes

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using berth::remotes::ParseReference;
  using berth::remotes::Reference;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  berth::Result<Reference> ref = ParseReference(input);
  if (!ref.ok()) {
    FUZZ_CHECK(ref.status().code() == berth::Errc::kInvalidArgument);
    return 0;
  }
  berth::remotes::CheckShape(*ref);
  const std::string name = ref->String();
  berth::Result<Reference> back = ParseReference(name);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(berth::remotes::Same(*ref, *back));
  FUZZ_CHECK(back->String() == name);
  return 0;
}
