// berth images mount/unmount: an unpacked image's root filesystem mounted on a directory
// (`ctr images mount/unmount`). The image's manifest for the platform gives its config, the
// config's diff ids the chain id of the committed snapshot unpacking made; a view of it (or
// with --rw an active snapshot on it) keyed by the target's absolute path is mounted there.
// A lease named after the target holds that snapshot; unmount drops both.
#include <filesystem>
#include <iostream>
#include <memory>

#include "berth/cli.h"
#include "images/rootfs.h"
#include "images/walk.h"
#include "common/logging.h"
#include "mount/mount.h"

namespace berth::cli {
using namespace ::berth::images;  // the image model (src/images) is the CLI's vocabulary
namespace {

namespace fs = std::filesystem;

// The label by which a lease keeps a snapshot (containerd's gc.ref.snapshot.<snapshotter>).
inline constexpr std::string_view kGcRefSnapshotPrefix = "containerd.io/gc.ref.snapshot.";

struct ImageMountArgs {
  std::string snapshotter = kDefaultSnapshotter;
  std::string ref;
  std::string target;
  std::string platform;  // "" for the host's
  bool rw = false;
  bool keep = false;
};

// The target as an absolute path, symlinks resolved as far as it exists: the snapshot key.
std::string TargetKey(const std::string& target) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(target), ec);
  if (ec) p = fs::absolute(target).lexically_normal();
  std::string out = p.string();
  while (out.size() > 1 && out.ends_with('/')) out.pop_back();
  return out;
}

// The chain id of the image's root filesystem for `platform`.
Result<std::string> ImageChainId(client::Client& client, const std::string& ref,
                                 const Platform& platform) {
  auto image = client.GetImage(ref);
  if (!image.ok()) return image.status().Wrap("failed to get image");
  FetchBlob fetch = [&client](const BlobDescriptor& d) { return client.ReadContentBlob(d.digest); };
  auto manifest = ResolveManifest(image->target, platform, fetch);
  if (!manifest.ok()) {
    return manifest.status().Wrap(
        fmt::format("image {:?} for {}", ref, FormatPlatform(platform)));
  }
  auto config = fetch(manifest->config);
  if (!config.ok()) return config.status().Wrap(fmt::format("config of image {:?}", ref));
  auto diff_ids = ConfigDiffIds(*config);
  if (!diff_ids.ok()) return diff_ids.status().Wrap(fmt::format("image {:?}", ref));
  if (diff_ids->empty()) return InvalidArgument("image {:?} has no layers to mount", ref);
  return ChainId(*diff_ids);
}

// Mounts the image; on failure leaves nothing it made behind.
Status MountImage(client::Client& client, const ImageMountArgs& args, const Platform& platform,
                  const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(std::string chain, ImageChainId(client, args.ref, platform));
  log::Debug("image rootfs", {{"image", args.ref}, {"chain_id", chain}, {"key", key}});
  if (auto parent = client.StatSnapshot(args.snapshotter, chain); !parent.ok()) {
    if (!parent.status().Is(Errc::kNotFound)) return parent.status();
    return NotFound(
        "image {:?} is not unpacked in snapshotter {:?} (no snapshot {}); pull it first "
        "(ctr images pull) or pick its snapshotter with --snapshotter",
        args.ref, args.snapshotter, chain);
  }

  const std::string lease_id = MountLeaseId(key);
  auto lease = client.CreateLease(
      lease_id, {{std::string(kGcRefSnapshotPrefix) + args.snapshotter, key},
                 {"berth.mount.target", key},
                 {"berth.mount.image", args.ref}});
  if (!lease.ok() && !lease.status().Is(Errc::kAlreadyExists)) {
    return lease.status().Wrap("failed to create the mount's lease");
  }
  const bool new_lease = lease.ok();
  auto drop_lease = [&] {
    if (!new_lease) return;
    if (Status st = client.DeleteLease(lease_id); !st.ok()) {
      PrintError(fmt::format("cleaning up lease {}: {}", lease_id, st.ToString()));
    }
  };
  // The snapshot joins the mount's lease.
  const client::Client leased = client.WithLease(lease_id);

  bool new_snapshot = true;
  auto mounts = args.rw ? leased.PrepareSnapshot(args.snapshotter, key, chain)
                        : leased.ViewSnapshot(args.snapshotter, key, chain);
  if (!mounts.ok() && mounts.status().Is(Errc::kAlreadyExists)) {
    // Mounted before (and unmounted with --keep): reuse it if it is of this image.
    new_snapshot = false;
    auto existing = leased.StatSnapshot(args.snapshotter, key);
    if (existing.ok() && existing->parent != chain) {
      drop_lease();
      return AlreadyExists("snapshot {:?} exists and is not of image {:?} (its parent is {})", key,
                           args.ref, existing->parent.empty() ? "none" : existing->parent);
    }
    mounts = leased.SnapshotMounts(args.snapshotter, key);
  }
  if (!mounts.ok()) {
    drop_lease();
    return mounts.status().Wrap(fmt::format("failed to create snapshot {:?}", key));
  }

  if (Status st = mount::MountAll(*mounts, key); !st.ok()) {
    if (new_snapshot) {
      if (Status rm = client.RemoveSnapshot(args.snapshotter, key); !rm.ok() && !rm.Is(Errc::kNotFound)) {
        PrintError(fmt::format("cleaning up snapshot after mount error: {}", rm.ToString()));
      }
    }
    drop_lease();
    return st;
  }
  std::cout << chain << '\n' << key << std::endl;
  return Status::Ok();
}

int RunMount(const GlobalOptions& global, const ImageMountArgs& args) {
  Platform platform = HostPlatform();
  if (!args.platform.empty()) {
    auto parsed = ParsePlatform(args.platform);
    if (!parsed.ok()) return Fail(parsed.status());
    platform = *parsed;
  }
  const std::string key = TargetKey(args.target);
  std::error_code ec;
  if (!fs::is_directory(key, ec)) {
    if (fs::is_directory(TargetKey(args.ref), ec)) {
      return Fail(InvalidArgument("{}: not a directory (the arguments are IMAGE-REF TARGET)",
                                  args.target));
    }
    return Fail(InvalidArgument("{}: not a directory", args.target));
  }
  auto mounted = mount::IsMountPoint(key);
  if (!mounted.ok()) return Fail(mounted.status());
  if (*mounted) {
    return Fail(AlreadyExists("{} is a mount point already (berth images unmount {} first)", key,
                              key));
  }
  auto client = Dial(global);
  if (client == nullptr) return kExitFailure;
  if (Status st = MountImage(*client, args, platform, key); !st.ok()) {
    return Fail(st.Wrap(fmt::format("failed to mount {:?} on {}", args.ref, key)));
  }
  return 0;
}

// The snapshotter the mount's lease names, else --snapshotter.
std::string MountSnapshotter(client::Client& client, const ImageMountArgs& args,
                             const std::string& lease_id) {
  auto leases = client.ListLeases({"id==" + lease_id});
  if (leases.ok()) {
    for (const auto& lease : *leases) {
      for (const auto& [k, v] : lease.labels) {
        if (k.starts_with(kGcRefSnapshotPrefix)) return k.substr(kGcRefSnapshotPrefix.size());
      }
    }
  }
  return args.snapshotter;
}

int RunUnmount(const GlobalOptions& global, const ImageMountArgs& args) {
  const std::string key = TargetKey(args.target);
  auto mounted = mount::IsMountPoint(key);
  if (!mounted.ok()) return Fail(mounted.status());
  if (*mounted) {
    if (Status st = mount::UnmountAll(key); !st.ok()) return Fail(st);
  }
  bool removed = false;
  if (!args.keep) {
    auto client = Dial(global);
    if (client == nullptr) return kExitFailure;
    const std::string lease_id = MountLeaseId(key);
    const std::string snapshotter = MountSnapshotter(*client, args, lease_id);
    Status st = client->DeleteLease(lease_id);
    if (!st.ok() && !st.Is(Errc::kNotFound)) return Fail(st.Wrap("error deleting lease"));
    removed = st.ok();
    st = client->RemoveSnapshot(snapshotter, key);
    if (!st.ok() && !st.Is(Errc::kNotFound)) return Fail(st.Wrap("error removing snapshot"));
    removed = removed || st.ok();
  }
  if (!*mounted && !removed) {
    return Fail(NotFound("nothing is mounted on {}", key));
  }
  std::cout << key << std::endl;
  return 0;
}

}  // namespace

void AddImageMountCommands(CLI::App* images, Cli& cli) {
  auto args = std::make_shared<ImageMountArgs>();

  auto* mount = images->add_subcommand(
      "mount", "Mount an unpacked image's root filesystem on a directory (read-only unless --rw)");
  mount->add_option("ref", args->ref, "Image ref")->required();
  mount->add_option("target", args->target, "Directory to mount on")->required();
  mount->add_option("--snapshotter", args->snapshotter, "Snapshotter the image is unpacked in")
      ->envname("BERTH_SNAPSHOTTER")
      ->capture_default_str();
  mount->add_flag("--rw", args->rw,
                  "Mount a writable snapshot (its changes go with it at unmount, unless --keep)");
  mount->add_option("--platform", args->platform,
                    "Platform of the image, os/arch[/variant] (default: this host's)");
  Bind(cli, mount, args, RunMount);

  auto* unmount = images->add_subcommand(
      "unmount", "Unmount an image mounted by `images mount` and remove its snapshot");
  unmount->alias("umount");
  unmount->add_option("target", args->target, "Directory the image is mounted on")->required();
  unmount->add_option("--snapshotter", args->snapshotter,
                      "Snapshotter of the mount (default: the one its lease names)")
      ->envname("BERTH_SNAPSHOTTER");
  unmount->add_flag("--keep", args->keep, "Keep the snapshot (and its lease) for a later mount");
  Bind(cli, unmount, args, RunUnmount);
}

}  // namespace berth::cli
