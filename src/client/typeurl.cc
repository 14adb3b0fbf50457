#include "client/typeurl.h"

#include <google/protobuf/util/json_util.h>

#include "github.com/containerd/containerd/api/events/container.pb.h"
#include "github.com/containerd/containerd/api/events/content.pb.h"
#include "github.com/containerd/containerd/api/events/image.pb.h"
#include "github.com/containerd/containerd/api/events/namespace.pb.h"
#include "github.com/containerd/containerd/api/events/snapshot.pb.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace berth::client {
namespace {

namespace pb = google::protobuf;

// A generated file registers its types in the generated pool from a static initializer, but
// a static library member nothing references is not linked at all. Naming one type of each
// event file keeps them all in every binary that decodes events.
void LinkEventTypes() {
  [[maybe_unused]] static const bool linked = [] {
    (void)containerd::events::ContainerCreate::descriptor();
    (void)containerd::events::ContentDelete::descriptor();
    // Image events are in containerd.services.images.v1, not containerd.events.
    (void)containerd::services::images::v1::ImageCreate::descriptor();
    (void)containerd::events::NamespaceCreate::descriptor();
    (void)containerd::events::SnapshotPrepare::descriptor();
    (void)containerd::events::TaskCreate::descriptor();
    return true;
  }();
}

}  // namespace

std::string_view TypeNameFromUrl(std::string_view type_url) {
  auto slash = type_url.rfind('/');
  return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

pb::Any PackAny(const pb::Message& message) {
  pb::Any any;
  any.set_type_url(message.GetDescriptor()->full_name());
  message.SerializeToString(any.mutable_value());
  return any;
}

const pb::Descriptor* FindMessageType(std::string_view type_name_or_url) {
  LinkEventTypes();
  std::string name(TypeNameFromUrl(type_name_or_url));
  if (name.empty()) return nullptr;
  return pb::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
}

Result<std::unique_ptr<pb::Message>> UnpackAny(const pb::Any& any) {
  const pb::Descriptor* descriptor = FindMessageType(any.type_url());
  if (descriptor == nullptr) return NotFound("type {:?}", any.type_url());
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) return NotFound("type {:?}", any.type_url());
  std::unique_ptr<pb::Message> message(prototype->New());
  if (!message->ParseFromString(any.value())) {
    return InvalidArgument("cannot decode {} payload of {} bytes", descriptor->full_name(),
                           any.value().size());
  }
  return message;
}

Result<std::string> AnyToJson(const pb::Any& any) {
  BERTH_ASSIGN_OR_RETURN(auto message, UnpackAny(any));
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = pb::util::MessageToJsonString(*message, &json, options);
  if (!status.ok()) {
    return InvalidArgument("cannot render {} as JSON: {}", message->GetDescriptor()->full_name(),
                           std::string(status.message()));
  }
  return json;
}

std::string DescribeAny(const pb::Any& any) {
  if (any.type_url().empty() && any.value().empty()) return "";
  auto json = AnyToJson(any);
  if (json.ok()) return std::move(json).value();
  return fmt::format("<{}: {} bytes>", any.type_url(), any.value().size());
}

Result<pb::Any> AnyFromJson(std::string_view type_name, std::string_view json) {
  const pb::Descriptor* descriptor = FindMessageType(type_name);
  if (descriptor == nullptr) return NotFound("type {:?}", type_name);
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(descriptor);
  if (prototype == nullptr) return NotFound("type {:?}", type_name);
  std::unique_ptr<pb::Message> message(prototype->New());
  auto status = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()),
                                              message.get(), pb::util::JsonParseOptions());
  if (!status.ok()) {
    return InvalidArgument("cannot parse {} from JSON: {}", descriptor->full_name(),
                           std::string(status.message()));
  }
  return PackAny(*message);
}

}  // namespace berth::client
