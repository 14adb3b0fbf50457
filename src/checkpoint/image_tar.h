// criu's image directory as one blob and back: containerd stores a checkpoint's criu files as a
// tar (kMediaTypeCriuTar) in the content store and unpacks it into a directory to restore.
#pragma once

#include <filesystem>

#include "common/archive_handle.h"
#include "common/status.h"
#include "content/reader.h"

namespace berth::checkpoint {

// A tar of `dir`'s regular files and directories (names relative to it). Anything else in it
// (links, devices) is refused: criu writes none.
Status WriteImageTar(const std::filesystem::path& dir, const ByteSink& out);

// Unpacks such a tar (plain or compressed) into the existing directory `dir`; a hostile tar
// cannot write outside it (diff::ApplyLayer's rules).
Status ExtractImageTar(const content::ReaderAt& blob, const std::filesystem::path& dir);

}  // namespace berth::checkpoint
