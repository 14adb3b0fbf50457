#include "client/bundle_write.h"


#include <fstream>
#include <memory>

#include "client/temp_lease.h"
#include "common/archive_handle.h"
#include "common/logging.h"
#include "common/random_hex.h"
#include "images/rootfs.h"
#include "images/walk.h"
#include "mount/scoped_mount.h"
#include "oci/image_config.h"
#include "oci/spec.h"

namespace berth::client {
namespace {

namespace fs = std::filesystem;

Status ArchiveFailure(archive* a, std::string_view what) {
  return Status(Errc::kUnknown, fmt::format("{}: {}", what, ArchiveError(a)));
}

// Copies the tree at `from` to `to` with owners, modes, times, xattrs, devices and links, as
// `bsdtar -c -C from . | bsdtar -x -C to` would (libarchive's disk reader and writer).
Status CopyTree(const fs::path& from, const fs::path& to) {
  ReadArchive reader(archive_read_disk_new());
  WriteArchive writer(archive_write_disk_new());
  if (!reader || !writer) return Status(Errc::kResourceExhausted, "libarchive: out of memory");
  archive_read_disk_set_behavior(reader.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  archive_read_disk_set_symlink_physical(reader.get());
  archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                   ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                                   ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  if (archive_read_disk_open(reader.get(), from.c_str()) != ARCHIVE_OK) return ArchiveFailure(reader.get(), "read");
  const std::string prefix = from.string();
  for (;;) {
    ArchiveEntry holder(archive_entry_new());
    archive_entry* entry = holder.get();
    int r = archive_read_next_header2(reader.get(), entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ArchiveFailure(reader.get(), "walk " + prefix);
    archive_read_disk_descend(reader.get());
    std::string path = archive_entry_pathname(entry);
    std::string rel = path.size() > prefix.size() ? path.substr(prefix.size()) : "";
    archive_entry_set_pathname(entry, (to.string() + rel).c_str());
    // Hard links inside the tree point at their first copy.
    if (const char* hl = archive_entry_hardlink(entry); hl != nullptr && std::string_view(hl).starts_with(prefix)) {
      archive_entry_set_hardlink(entry, (to.string() + std::string(hl).substr(prefix.size())).c_str());
    }
    if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN) return ArchiveFailure(writer.get(), "write " + rel);
    if (archive_entry_size(entry) > 0 && archive_entry_filetype(entry) == AE_IFREG) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      while ((r = archive_read_data_block(reader.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(writer.get(), buf, size, offset) < ARCHIVE_OK) {
          return ArchiveFailure(writer.get(), "write " + rel);
        }
      }
      if (r != ARCHIVE_EOF) return ArchiveFailure(reader.get(), "read " + rel);
    }
    if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN) return ArchiveFailure(writer.get(), "finish " + rel);
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) return ArchiveFailure(writer.get(), "close");
  return Status::Ok();
}

std::string RandomKey() { return "berth-bundle-" + RandomHex(8); }

}  // namespace

Status WriteBundle(Client& client, const fs::path& dir, BundleOptions o) {
  std::error_code ec;
  if (fs::exists(dir, ec) && (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec))) {
    return FailedPrecondition("{} exists and is not an empty directory", dir.string());
  }
  auto image = client.GetImage(o.image);
  if (!image.ok()) {
    if (image.status().Is(Errc::kNotFound)) return NotFound("image {} not found (pull it first: berth pull)", o.image);
    return image.status();
  }
  images::FetchBlob fetch = [&client](const images::BlobDescriptor& d) { return client.ReadContentBlob(d.digest); };
  BERTH_ASSIGN_OR_RETURN(auto manifest, images::ResolveManifest(image->target, images::HostPlatform(), fetch));
  BERTH_ASSIGN_OR_RETURN(auto config_blob, fetch(manifest.config));
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, images::ConfigDiffIds(config_blob));
  BERTH_ASSIGN_OR_RETURN(o.spec.image, oci::ParseImageConfig(config_blob));
  std::string chain = images::ChainId(diff_ids);

  BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
  Client& leased = lease.client();
  const std::string key = RandomKey();
  auto mounts = leased.ViewSnapshot(o.snapshotter, key, chain);
  if (!mounts.ok()) {
    if (mounts.status().Is(Errc::kNotFound)) {
      return FailedPrecondition("image {} is not unpacked in snapshotter {:?}", o.image, o.snapshotter);
    }
    return mounts.status();
  }
  bool made_dir = !fs::exists(dir, ec);
  Status st = [&]() -> Status {
    auto rootfs = mount::ScopedMount::Create(*mounts);
    if (!rootfs.ok()) return rootfs.status().Wrap("mounting the image's root filesystem");
    o.spec.rootfs = rootfs->path();
    BERTH_ASSIGN_OR_RETURN(oci::Spec spec, oci::GenerateSpec(o.spec));
    spec.root.path = "rootfs";
    // A bundle may be run under any id: the cgroup is the runner's to name (the REST API uses
    // /<namespace>/<id>, runc its own default).
    spec.linux.cgroups_path.clear();
    fs::create_directories(dir / "rootfs", ec);
    if (ec) return Status(Errc::kUnknown, fmt::format("create {}: {}", (dir / "rootfs").string(), ec.message()));
    BERTH_RETURN_IF_ERROR(CopyTree(rootfs->path(), dir / "rootfs"));
    std::ofstream out(dir / "config.json", std::ios::binary | std::ios::trunc);
    out << oci::ToJson(spec).dump(2) << "\n";
    if (!out.flush()) return Status(Errc::kUnknown, fmt::format("write {}", (dir / "config.json").string()));
    return Status::Ok();
  }();
  if (Status rm = leased.RemoveSnapshot(o.snapshotter, key); !rm.ok()) {
    log::Warn("removing the bundle's view", {{"key", key}, {"error", rm.ToString()}});
  }
  if (!st.ok()) {
    // Nothing half-made stays behind: what this call created goes.
    if (made_dir) {
      fs::remove_all(dir, ec);
    } else {
      for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
    }
  }
  return st;
}

}  // namespace berth::client
