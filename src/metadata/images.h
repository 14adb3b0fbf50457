// Images in the metadata DB, with containerd 1.6's semantics (metadata/images.go): a name
// (any non-empty string, not an identifier) pointing at a target descriptor, plus labels.
// The target's content need not exist: the image record is only a name for a root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/filters.h"
#include "common/records.h"
#include "common/status.h"
#include "metadata/db.h"

namespace berth::metadata {

// The image record (common/records.h); its target is stored as a serialized
// containerd.types.Descriptor (no platform).
using Descriptor = berth::Descriptor;
using Image = berth::Image;

// Stateless: every call runs inside the caller's transaction.
namespace images {

// containerd's validateImage: name set, labels within limits, target with a valid digest,
// size > 0 and a media type. InvalidArgument otherwise.
Status Validate(const Image& image);

// NotFound `image "x"`.
Result<Image> Get(Tx& tx, std::string_view ns, std::string_view name);
// Images of `ns` matching any of `filters` (containerd's filter language; fields `name`,
// `target.digest`, `target.mediatype`, `labels.<k>`, `annotations.<k>`), by name.
Result<std::vector<Image>> List(Tx& tx, std::string_view ns, const std::vector<std::string>& filters);
// Creates the namespace if needed. AlreadyExists `image "x"`. Returns what was stored
// (timestamps set, empty labels dropped).
Result<Image> Create(Tx& tx, std::string_view ns, Image image);
// Applies `paths` ("labels", "labels.<k>", "target", "annotations", "annotations.<k>") from
// `image` to the stored one; no paths replace labels and target. InvalidArgument
// `cannot update "p" field on image "x"` for any other path.
Result<Image> Update(Tx& tx, std::string_view ns, const Image& image,
                     const std::vector<std::string>& paths);
// NotFound `image "x"`.
Status Delete(Tx& tx, std::string_view ns, std::string_view name);

// The filter view of an image (containerd's adaptImage). Refers to `image`.
filters::FuncAdaptor Adapt(const Image& image);

}  // namespace images
}  // namespace berth::metadata
