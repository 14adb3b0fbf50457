// Applying one layer (an OCI image-spec changeset tar, compressed or not) onto a directory,
// as containerd's archive.Apply does:
//
// - Entries replace what is there (a directory over a directory merges its metadata; anything
//   else is removed first). Owners are numeric, modes keep setuid/setgid/sticky, xattrs are set
//   (except trusted.*, as containerd), mtimes restored (directories' after their contents),
//   device nodes, fifos, symlinks and hard links created.
// - Whiteouts: `.wh.<name>` deletes <name>, `.wh..wh..opq` empties its directory of what this
//   layer did not add. With `overlay_whiteouts` (applying into an overlayfs upperdir) they
//   become overlay whiteouts instead: a 0/0 character device, and the directory's
//   `trusted.overlay.opaque=y`.
// - Hostile archives cannot reach outside `target`: names are cleaned, every parent is resolved
//   inside the target by the kernel (openat2 RESOLVE_IN_ROOT: symlinks, `..` and absolute
//   names stay in it), final components are never followed, hard links resolve their target
//   inside the target too, and files are created O_EXCL|O_NOFOLLOW.
//
// The result is the sha256 and size of the uncompressed stream (trailing data after the
// tar's end included): the layer's diff_id.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/digest.h"
#include "content/reader.h"

namespace berth::diff {

struct ApplyOptions {
  // Write overlayfs whiteouts (the target is an overlay upperdir) instead of deleting.
  bool overlay_whiteouts = false;
  // The overlay's lowerdirs, top first: a directory this layer needs but the target lacks is
  // created with the attributes of the first lower one that has it (containerd's WithParents),
  // so the merged view keeps its mode and owner.
  std::vector<std::filesystem::path> parents;
  // Names the blob in errors.
  std::string what = "layer";
};

struct AppliedLayer {
  Digest diff_id;  // sha256 of the uncompressed stream
  int64_t size = 0;         // its length
};

// Applies the layer in `blob` (gzip, zstd or plain tar, recognised by magic) to `target`,
// which must be an existing directory.
Result<AppliedLayer> ApplyLayer(const content::ReaderAt& blob, const std::filesystem::path& target,
                                const ApplyOptions& options);

}  // namespace berth::diff
