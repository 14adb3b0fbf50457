// What a container takes from its image's config blob (OCI image-spec config, also Docker's
// schema 2 config): the process defaults and labels.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::oci {

struct ImageConfig {
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
};

// The "config" object of an image config JSON (absent: all empty). InvalidArgument for JSON
// that is not an object or fields of the wrong type.
Result<ImageConfig> ParseImageConfig(std::string_view json);

}  // namespace berth::oci
