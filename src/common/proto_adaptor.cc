#include "common/proto_adaptor.h"

#include <memory>
#include <string_view>

#include <google/protobuf/descriptor.h>

namespace berth {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using google::protobuf::Reflection;

bool IsStringMap(const FieldDescriptor& field) {
  if (!field.is_map()) return false;
  const Descriptor* entry = field.message_type();
  return entry->map_key()->type() == FieldDescriptor::TYPE_STRING &&
         entry->map_value()->type() == FieldDescriptor::TYPE_STRING;
}

std::optional<std::string> MapField(const Message& message, const FieldDescriptor& field,
                                    std::span<const std::string> rest) {
  const Reflection* reflection = message.GetReflection();
  const Descriptor* entry = field.message_type();
  const FieldDescriptor* key_field = entry->map_key();
  const FieldDescriptor* value_field = entry->map_value();
  // The repeated view of a map is unordered but complete; maps here are small.
  std::string key = filters::JoinPath(rest);
  int size = reflection->FieldSize(message, &field);
  for (int i = 0; i < size; ++i) {
    const Message& item = reflection->GetRepeatedMessage(message, &field, i);
    const Reflection* item_reflection = item.GetReflection();
    if (item_reflection->GetString(item, key_field) == key) {
      return item_reflection->GetString(item, value_field);
    }
  }
  return std::nullopt;  // also when the map is empty, as containerd's len(m) == 0 check
}

// containerd's typeurl names proto types by their bare full name
// (`containerd.events.TaskExit`); the usual `type.googleapis.com/` prefix is accepted too.
std::optional<std::string> AnyField(const Message& any, std::span<const std::string> rest) {
  if (rest.empty()) return std::nullopt;  // an unpacked message has no value of its own
  const Descriptor* any_type = any.GetDescriptor();
  const FieldDescriptor* type_url_field = any_type->FindFieldByName("type_url");
  const FieldDescriptor* value_field = any_type->FindFieldByName("value");
  if (type_url_field == nullptr || value_field == nullptr) return std::nullopt;

  const Reflection* reflection = any.GetReflection();
  std::string type_url = reflection->GetString(any, type_url_field);
  std::string_view name = type_url;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  const Descriptor* type =
      DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(name));
  if (type == nullptr) return std::nullopt;
  const Message* prototype = MessageFactory::generated_factory()->GetPrototype(type);
  if (prototype == nullptr) return std::nullopt;
  std::unique_ptr<Message> unpacked(prototype->New());
  if (!unpacked->ParseFromString(reflection->GetString(any, value_field))) return std::nullopt;
  return ProtoField(*unpacked, rest);
}

}  // namespace

std::optional<std::string> ProtoField(const Message& message,
                                      std::span<const std::string> fieldpath) {
  if (fieldpath.empty()) return std::nullopt;
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(fieldpath[0]);
  if (field == nullptr) return std::nullopt;
  std::span<const std::string> rest = fieldpath.subspan(1);

  if (field->is_map()) {
    if (!IsStringMap(*field)) return std::nullopt;
    return MapField(message, *field, rest);
  }
  if (field->is_repeated()) return std::nullopt;

  const Reflection* reflection = message.GetReflection();
  switch (field->type()) {
    case FieldDescriptor::TYPE_STRING: {
      std::string value = reflection->GetString(message, field);
      if (value.empty()) return std::nullopt;
      return value;
    }
    case FieldDescriptor::TYPE_BOOL:
      return reflection->GetBool(message, field) ? "true" : "false";
    case FieldDescriptor::TYPE_MESSAGE: {
      // An unset message is absent (Go: a nil pointer), whatever it would contain.
      if (!reflection->HasField(message, field)) return std::nullopt;
      const Message& nested = reflection->GetMessage(message, field);
      if (field->message_type()->full_name() == "google.protobuf.Any") {
        return AnyField(nested, rest);
      }
      return ProtoField(nested, rest);
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ProtoAdaptor::Field(const std::vector<std::string>& fieldpath) const {
  return ProtoField(message_, fieldpath);
}

}  // namespace berth
