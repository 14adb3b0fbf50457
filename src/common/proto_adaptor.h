// A filters::Adaptor over any protobuf message, through reflection, so that filters work on
// every API object without a handwritten adaptor.
//
// It answers the paths containerd's generated `Field(fieldpath)` methods (the fieldpath
// protoc plugin) answer, by proto field name:
//   - string fields: the value, absent when empty;
//   - bool fields: "true" / "false", always present;
//   - map<string, string> fields (containerd: only those named `labels`): the entry whose key
//     is the rest of the path joined with "." (`labels.a.b` is key "a.b"); absent when the
//     map is empty or has no such key;
//   - singular message fields: the rest of the path inside the message, absent when unset;
//   - google.protobuf.Any fields: the rest of the path inside the unpacked message, absent
//     when unset or when the type is not linked into this binary.
// Everything else (numbers, enums, bytes, repeated fields, other maps) is absent. Like the
// generated code, a string or bool field answers for longer paths too (`id.x` reads `id`).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "common/filters.h"

namespace berth {

// Thread-compatible: Field is const and may be called concurrently while the message is not changed.
class ProtoAdaptor final : public filters::Adaptor {
 public:
  // Refers to `message`, which must outlive the adaptor.
  explicit ProtoAdaptor(const google::protobuf::Message& message) : message_(message) {}
  ProtoAdaptor(google::protobuf::Message&&) = delete;

  std::optional<std::string> Field(const std::vector<std::string>& fieldpath) const override;

 private:
  const google::protobuf::Message& message_;
};

// The value ProtoAdaptor reports for `fieldpath` of `message`.
std::optional<std::string> ProtoField(const google::protobuf::Message& message,
                                      std::span<const std::string> fieldpath);

}  // namespace berth
