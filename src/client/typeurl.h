// Events carry their payload as a protobuf Any. containerd's typeurl names the type by its
// bare full name ("containerd.events.NamespaceCreate"), not "type.googleapis.com/...":
// these helpers pack that way and read both spellings.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/status.h"

namespace berth::client {

// The full proto name in a type url: everything after the last '/', if any.
std::string_view TypeNameFromUrl(std::string_view type_url);

// An Any holding `message`, its type_url the bare full name.
google::protobuf::Any PackAny(const google::protobuf::Message& message);

// The descriptor for a type name or url, from the types linked into this binary (the
// well-known types and containerd's events); nullptr when unknown.
const google::protobuf::Descriptor* FindMessageType(std::string_view type_name_or_url);

// The message inside `any`: kNotFound for an unknown type, kInvalidArgument for bad bytes.
Result<std::unique_ptr<google::protobuf::Message>> UnpackAny(const google::protobuf::Any& any);

// Protobuf JSON of the message inside `any`, with the proto field names (as ctr prints
// events: Go's encoding/json over the gogo structs uses them too).
Result<std::string> AnyToJson(const google::protobuf::Any& any);

// AnyToJson for display: falls back to `<TYPE_URL: N bytes>` when the payload cannot be
// decoded; empty for an empty Any.
std::string DescribeAny(const google::protobuf::Any& any);

// Parses protobuf JSON into a message of the named type and packs it.
Result<google::protobuf::Any> AnyFromJson(std::string_view type_name, std::string_view json);

}  // namespace berth::client
