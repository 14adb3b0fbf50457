#include "runtime/shim_options.h"

#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"

namespace berth::runtime {
namespace {

using RuncOptions = containerd::runc::v1::Options;
using LinuxRuncOptions = containerd::linux::runc::RuncOptions;
using LinuxCreateOptions = containerd::linux::runc::CreateOptions;

// The type name of an Any without its URL prefix.
std::string_view TypeName(const google::protobuf::Any& any) {
  std::string_view type = any.type_url();
  if (auto slash = type.rfind('/'); slash != std::string_view::npos) type.remove_prefix(slash + 1);
  return type;
}

template <typename Message>
Result<bool> Unpack(const std::optional<google::protobuf::Any>& any, Message* out) {
  if (!any || TypeName(*any) != Message::descriptor()->full_name()) return false;
  if (!out->ParseFromString(any->value())) {
    return InvalidArgument("cannot decode runtime options of type {}", any->type_url());
  }
  return true;
}

google::protobuf::Any Pack(const RuncOptions& options) {
  google::protobuf::Any out;
  out.set_type_url(RuncOptions::descriptor()->full_name());  // containerd's typeurl: the bare name
  out.set_value(options.SerializeAsString());
  return out;
}

Result<std::optional<google::protobuf::Any>> LinuxV1Options(const std::optional<google::protobuf::Any>& runtime_options,
                                                            const std::optional<google::protobuf::Any>& task_options,
                                                            const ShimDefaults& defaults) {
  RuncOptions out;
  LinuxRuncOptions rt;
  BERTH_ASSIGN_OR_RETURN(bool have_rt, Unpack(runtime_options, &rt));
  if (!have_rt && runtime_options && !runtime_options->type_url().empty()) {
    return InvalidArgument("runtime {} takes options of type {}, not {}", kLinuxV1Runtime,
                           LinuxRuncOptions::descriptor()->full_name(), runtime_options->type_url());
  }
  out.set_binary_name(rt.runtime());
  out.set_root(rt.runtime_root());
  out.set_criu_path(rt.criu_path());
  out.set_systemd_cgroup(rt.systemd_cgroup());
  LinuxCreateOptions create;
  BERTH_ASSIGN_OR_RETURN(bool have_create, Unpack(task_options, &create));
  if (have_create) {
    out.set_no_pivot_root(create.no_pivot_root());
    out.set_no_new_keyring(create.no_new_keyring());
    out.set_shim_cgroup(create.shim_cgroup());
    out.set_io_uid(create.io_uid());
    out.set_io_gid(create.io_gid());
    out.set_criu_work_path(create.criu_work_path());
    out.set_criu_image_path(create.criu_image_path());
  } else if (task_options && !task_options->type_url().empty()) {
    return InvalidArgument("runtime {} takes task options of type {}, not {}", kLinuxV1Runtime,
                           LinuxCreateOptions::descriptor()->full_name(), task_options->type_url());
  }
  RuncOptions merged = defaults.runc;
  merged.MergeFrom(defaults.linux_v1);
  merged.MergeFrom(out);
  return std::optional<google::protobuf::Any>(Pack(merged));
}

}  // namespace

bool IsRuncRuntime(const std::string& runtime) {
  return runtime == kRuncV1Runtime || runtime == kRuncV2Runtime || runtime == kLinuxV1Runtime ||
         runtime == "io.containerd.berth.v1";
}

Result<std::optional<google::protobuf::Any>> ShimOptions(const std::string& runtime,
                                                         const std::optional<google::protobuf::Any>& runtime_options,
                                                         const std::optional<google::protobuf::Any>& task_options,
                                                         const ShimDefaults& defaults) {
  if (runtime == kLinuxV1Runtime) return LinuxV1Options(runtime_options, task_options, defaults);
  // As containerd's runtime v2: the request's options win over the container's.
  std::optional<google::protobuf::Any> chosen = task_options ? task_options : runtime_options;
  if (!IsRuncRuntime(runtime)) return chosen;
  RuncOptions runc;
  BERTH_ASSIGN_OR_RETURN(bool have, Unpack(chosen, &runc));
  if (!have && chosen && !chosen->type_url().empty()) return chosen;  // another shim's options: as they are
  RuncOptions merged = defaults.runc;
  merged.MergeFrom(runc);
  google::protobuf::Any out = Pack(merged);
  if (have) out.set_type_url(chosen->type_url());  // keep the client's spelling of the type
  return std::optional<google::protobuf::Any>(std::move(out));
}

}  // namespace berth::runtime
