#include "berth/container_new.h"

#include <openssl/rand.h>

#include <chrono>

#include "images/rootfs.h"
#include "images/walk.h"
#include "common/labels.h"
#include "common/logging.h"
#include "berth/human.h"
#include "mount/scoped_mount.h"
#include "oci/env.h"
#include "oci/generate.h"
#include "oci/image_config.h"
#include "oci/mount_flag.h"

namespace berth::cli {
using namespace ::berth::images;  // the image model (src/images) is the CLI's vocabulary
namespace {

// containerd's lease expiry label: a lease left by a crash goes after a day.
inline constexpr const char* kGcExpireLabel = "containerd.io/gc.expire";

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  std::string out;
  for (unsigned char c : buf) out += fmt::format("{:02x}", c);
  return out;
}

// "k=v" flags as a map ("k" alone: empty value), as ctr's LabelArgs.
std::map<std::string, std::string> LabelArgs(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    out[a.substr(0, eq)] = eq == std::string::npos ? "" : a.substr(eq + 1);
  }
  return out;
}

struct ImageParts {
  client::Image image;
  oci::ImageConfig config;
  std::string chain_id;
};

Result<ImageParts> LoadImage(client::Client& client, const std::string& ref) {
  auto image = client.GetImage(ref);
  if (!image.ok()) {
    if (image.status().Is(Errc::kNotFound)) {
      return NotFound("image {} not found (pull it first: ctr images pull)", ref);
    }
    return image.status();
  }
  FetchBlob fetch = [&client](const BlobDescriptor& d) { return client.ReadContentBlob(d.digest); };
  BlobDescriptor target{image->target.media_type, image->target.digest, image->target.size, {}};
  BERTH_ASSIGN_OR_RETURN(auto manifest, ResolveManifest(target, HostPlatform(), fetch));
  auto config_blob = fetch(manifest.config);
  if (!config_blob.ok()) return config_blob.status().Wrap(fmt::format("config of image {}", ref));
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, ConfigDiffIds(*config_blob));
  BERTH_ASSIGN_OR_RETURN(auto config, oci::ParseImageConfig(*config_blob));
  return ImageParts{std::move(*image), std::move(config), ChainId(diff_ids)};
}

}  // namespace

void AddContainerFlags(CLI::App* cmd, ContainerFlags& f) {
  // IMAGE, ID and the command are taken from what follows the flags (see run.cc): declared as
  // positionals, a command word that is also a berth verb ("ps", "events") would be taken for one.
  // One value per occurrence, so that `--env A=1 IMAGE ID` leaves IMAGE a positional.
  cmd->add_option("--env", f.env, "Environment variable, K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--env-file", f.env_file, "File of environment variables, one K=V a line");
  cmd->add_option("--cwd", f.cwd, "Working directory of the process");
  cmd->add_option("-u,--user", f.user, "User, as uid[:gid] or user[:group] of the image");
  cmd->add_option("--mount", f.mounts,
                  "Extra mount, e.g. type=bind,src=/x,dst=/y,options=rbind:ro (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--runtime", f.runtime, "Runtime name")->capture_default_str();
  cmd->add_option("--runc-binary", f.runc_binary, "runc-compatible binary for the runc shim");
  cmd->add_option("--snapshotter", f.snapshotter, "Snapshotter the image is unpacked in")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  cmd->add_option("--memory-limit", f.memory_limit, "Memory limit in bytes (0: none)");
  cmd->add_option("--label", f.labels, "Container label, K=V (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--hostname", f.hostname, "Hostname of the container");
  cmd->add_flag("-t,--tty", f.tty, "Give the process a terminal");
  cmd->add_flag("--read-only", f.read_only, "Mount the root filesystem read-only");
}

Result<client::Container> NewContainer(client::Client& client, const GlobalOptions& global,
                                       const ContainerFlags& f) {
  if (!f.runc_binary.empty() && f.runtime != client::kRuncV2Runtime) {
    return InvalidArgument("--runc-binary is only supported for the {} runtime",
                           client::kRuncV2Runtime);
  }
  oci::SpecOptions spec_options;
  spec_options.namespace_name = global.namespace_name;
  spec_options.id = f.id;
  if (!f.env_file.empty()) {
    BERTH_ASSIGN_OR_RETURN(spec_options.env, oci::ReadEnvFile(f.env_file));
  }
  spec_options.env.insert(spec_options.env.end(), f.env.begin(), f.env.end());
  for (const auto& m : f.mounts) {
    BERTH_ASSIGN_OR_RETURN(auto mount, oci::ParseMountFlag(m));
    spec_options.mounts.push_back(std::move(mount));
  }
  spec_options.args = f.command;
  spec_options.cwd = f.cwd;
  spec_options.terminal = f.tty;
  spec_options.user = f.user;
  spec_options.hostname = f.hostname;
  if (f.memory_limit > 0) spec_options.memory_limit = f.memory_limit;
  spec_options.readonly_rootfs = f.read_only;
  const auto cli_labels = LabelArgs(f.labels);
  spec_options.annotations = cli_labels;

  BERTH_ASSIGN_OR_RETURN(auto image, LoadImage(client, f.image));
  spec_options.image = image.config;
  if (auto parent = client.StatSnapshot(f.snapshotter, image.chain_id); !parent.ok()) {
    if (!parent.status().Is(Errc::kNotFound)) return parent.status();
    return FailedPrecondition("image {} is not unpacked in snapshotter {:?} (no snapshot {})",
                              f.image, f.snapshotter, image.chain_id);
  }

  // Everything made from here on is held by a lease until the container record holds it.
  const std::string lease_id = "berth-new-" + RandomHex(8);
  auto expire = FormatRfc3339NanoUtc(std::chrono::system_clock::now() + std::chrono::hours(24));
  BERTH_RETURN_IF_ERROR(client.CreateLease(lease_id, {{kGcExpireLabel, expire}}).status());
  client.set_lease(lease_id);
  struct DropLease {
    client::Client& client;
    std::string id;
    ~DropLease() {
      client.set_lease("");
      if (Status st = client.DeleteLease(id); !st.ok()) {
        log::Warn("deleting the temporary lease", {{"lease", id}, {"error", st.ToString()}});
      }
    }
  } drop_lease{client, lease_id};

  auto mounts = client.PrepareSnapshot(f.snapshotter, f.id, image.chain_id);
  if (!mounts.ok()) return mounts.status().Wrap(fmt::format("snapshot {:?}", f.id));
  auto remove_snapshot = [&] {
    if (Status st = client.RemoveSnapshot(f.snapshotter, f.id); !st.ok()) {
      log::Warn("removing the snapshot", {{"key", f.id}, {"error", st.ToString()}});
    }
  };

  // Users and groups are looked up in the container's own /etc (containerd mounts the
  // snapshot for that too).
  Result<oci::Spec> spec = Status(Errc::kUnknown, "");
  {
    auto rootfs = mount::ScopedMount::Create(*mounts);
    if (!rootfs.ok()) {
      remove_snapshot();
      return rootfs.status().Wrap("mounting the container's root filesystem");
    }
    spec_options.rootfs = rootfs->path();
    spec = oci::GenerateSpec(spec_options);
  }
  if (!spec.ok()) {
    remove_snapshot();
    return spec.status();
  }

  client::Container c;
  c.id = f.id;
  c.image = image.image.name;
  c.labels = image.config.labels;  // WithImageConfigLabels
  for (const auto& [k, v] : image.image.labels) {
    if (labels::Validate(k, v).ok()) c.labels[k] = v;
  }
  for (const auto& [k, v] : cli_labels) c.labels[k] = v;
  c.labels[kStopSignalLabel] = image.config.stop_signal.empty() ? "SIGTERM" : image.config.stop_signal;
  c.runtime.name = f.runtime;
  if (f.runtime == client::kRuncV2Runtime) c.runtime.options = client::RuncOptionsAny(f.runc_binary);
  c.spec = client::SpecAny(oci::ToJson(*spec).dump());
  c.snapshotter = f.snapshotter;
  c.snapshot_key = f.id;
  auto created = client.CreateContainer(c);
  if (!created.ok()) {
    remove_snapshot();
    return created.status();
  }
  return created;
}

}  // namespace berth::cli
