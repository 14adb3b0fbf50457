// Images and containers as plain data (containerd's images.Image and containers.Container):
// what berthd's metadata DB stores (metadata/images.h, metadata/containers.h) and the client
// library hands out (client/types.h). Spec, runtime options and extensions are the
// google.protobuf.Any the client sent, never interpreted.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <google/protobuf/any.pb.h>

#include "common/descriptor.h"
#include "common/labels.h"
#include "common/timeutil.h"

namespace berth {

// A name (any non-empty string) for a root descriptor, plus labels.
struct Image {
  std::string name;
  labels::Labels labels;
  Descriptor target;
  TimePoint created_at{};
  TimePoint updated_at{};
};

// Only metadata: tasks run elsewhere.
struct Container {
  struct Runtime {
    std::string name;
    std::optional<google::protobuf::Any> options;
  };

  std::string id;
  labels::Labels labels;
  std::string image;
  Runtime runtime;
  std::optional<google::protobuf::Any> spec;
  std::string snapshotter;
  std::string snapshot_key;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::map<std::string, google::protobuf::Any> extensions;
};

}  // namespace berth
