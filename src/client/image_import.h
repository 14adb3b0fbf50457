// Image import, as containerd's images/archive.ImportIndex and client.Import (`ctr images
// import`).
//
// Reads an OCI layout tar or a `docker save` tar (manifest.json; a Docker schema 2 manifest
// and an index are synthesized for it). Every regular file goes into the content store (an OCI
// blob checked against the digest its path names), all under one lease; the blobs of the
// chosen platform(s) get containerd's gc.ref.content children labels, the images are created
// (or their target updated) for every manifest and index the archive names, whatever its
// platform (as containerd does), those of the unpack platform (--platform, else the host's)
// unpacked unless told not to, and the lease dropped.
//
//   ImportOptions opts;
//   std::ifstream in("busybox.tar", std::ios::binary);
//   BERTH_ASSIGN_OR_RETURN(auto imported, ImportImages(*client, in, opts));
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "images/walk.h"

namespace berth::client {

struct ImportOptions {
  // ctr's --base-name: names tag-only OCI ref names (base:tag) and, when set, imports only
  // names under it. Empty: tags become "import-<yyyy-mm-dd>:<tag>".
  std::string base_name;
  std::string index_name;  // an image for the archive's index itself; "" for none
  bool digests = false;    // also an image <base>@<manifest digest> per manifest (ctr --digests)
  bool all_platforms = false;
  std::optional<images::Platform> platform;  // strict; the host's (non-strict) when unset
  bool unpack = true;
  std::string snapshotter = "overlayfs";
  // Called before (done=false) and after (done=true) unpacking each image; may be empty.
  std::function<void(const Image& image, bool done)> unpacking;
};

// Imports the archive read from `in` and returns the images created or updated.
// kInvalidArgument when it is not a tar, has neither index.json nor manifest.json, names a blob
// it does not hold, or holds a blob whose bytes do not match its digest; then no image is made.
Result<std::vector<Image>> ImportImages(Client& client, std::istream& in, const ImportOptions& options);

}  // namespace berth::client
