// What a container needs of an image in the store: the record, its config for `platform` and
// the chain id of its root filesystem (the snapshot a container's own is prepared on).
#pragma once

#include <string>

#include "client/client.h"
#include "images/walk.h"
#include "oci/image_config.h"

namespace berth::client {

struct ImageParts {
  Image image;
  oci::ImageConfig config;
  std::string chain_id;
};

// NotFound "image X not found (pull it first: berth pull)" when the store lacks it.
Result<ImageParts> LoadImage(Client& client, const std::string& ref, const images::Platform& platform);

}  // namespace berth::client
