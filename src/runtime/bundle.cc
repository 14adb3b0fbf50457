#include "runtime/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/identifiers.h"
#include "common/logging.h"
#include "common/files.h"
#include "mount/mount.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = "berth-bundle";

// The shim writes these files with a trailing newline.
Result<std::string> ReadTrimmed(const fs::path& path) {
  BERTH_ASSIGN_OR_RETURN(std::string s, files::ReadSmall(path));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The host gid that root inside the container maps to (linux.gidMappings), 0 without a mapping.
Result<uint32_t> RemappedRootGid(std::string_view spec_json) {
  auto spec = nlohmann::json::parse(spec_json, nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded()) return InvalidArgument("the task's OCI spec is not valid JSON");
  auto linux_it = spec.find("linux");
  if (!spec.is_object() || linux_it == spec.end() || !linux_it->is_object()) return 0u;
  auto maps = linux_it->find("gidMappings");
  if (maps == linux_it->end() || !maps->is_array()) return 0u;
  try {
    for (const auto& m : *maps) {
      if (m.is_object() && m.value("containerID", uint32_t{1}) == 0) return m.value("hostID", uint32_t{0});
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("the task's OCI spec: linux.gidMappings: {}", e.what());
  }
  return 0u;
}

// With user namespaces the container's root is an unprivileged host user, which must still
// reach the bundle's rootfs: as containerd, the bundle's group becomes the remapped root's
// group with search permission (0710).
Status AllowRemappedRoot(const fs::path& bundle, std::string_view spec_json) {
  BERTH_ASSIGN_OR_RETURN(uint32_t gid, RemappedRootGid(spec_json));
  if (gid == 0) return Status::Ok();
  if (::chown(bundle.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    return ErrnoStatus(fmt::format("chown {} to gid {}", bundle.string(), gid), errno);
  }
  if (::chmod(bundle.c_str(), 0710) != 0) return ErrnoStatus(fmt::format("chmod {}", bundle.string()), errno);
  return Status::Ok();
}

}  // namespace

Result<Bundle> Bundle::Create(const fs::path& tasks_root, std::string_view ns, std::string_view id,
                              std::string_view spec_json) {
  BERTH_RETURN_IF_ERROR(identifiers::Validate(id));
  Bundle b{std::string(ns), std::string(id), tasks_root / std::string(ns) / std::string(id)};
  std::error_code ec;
  fs::create_directories(b.path.parent_path(), ec);
  if (ec) return Unknown("create {}: {}", b.path.parent_path().string(), ec.message());
  if (::mkdir(b.path.c_str(), 0700) != 0) {
    if (errno == EEXIST) return AlreadyExists("bundle for task {} in namespace {}", id, ns);
    return ErrnoStatus(fmt::format("create bundle {}", b.path.string()), errno);
  }
  // Undone by name, without opening anything: the create may have failed for want of file
  // descriptors, and then so would a directory walk (remove_all), leaving the bundle behind.
  auto fail = [&](Status s) -> Status {
    for (const char* file : {"config.json", "config.json.tmp", "log", kMarker}) ::unlink((b.path / file).c_str());
    ::rmdir(b.rootfs().c_str());
    if (::rmdir(b.path.c_str()) != 0 && errno != ENOENT) fs::remove_all(b.path, ec);
    return s;
  };
  // An empty file whose existence is all it says: no data to sync (this is the start path).
  if (auto marker = files::Open(b.path / kMarker, O_WRONLY | O_CREAT | O_EXCL, 0600); !marker.ok()) {
    return fail(marker.status());
  }
  if (::mkdir(b.rootfs().c_str(), 0711) != 0) {
    return fail(ErrnoStatus(fmt::format("create {}", b.rootfs().string()), errno));
  }
  if (::mkfifo(b.log_fifo().c_str(), 0700) != 0) {
    return fail(ErrnoStatus(fmt::format("mkfifo {}", b.log_fifo().string()), errno));
  }
  if (Status s = files::WriteAtomic(b.path / "config.json", spec_json); !s.ok()) return fail(s);
  if (Status s = AllowRemappedRoot(b.path, spec_json); !s.ok()) return fail(s);
  return b;
}

Result<std::vector<Bundle>> Bundle::LoadAll(const fs::path& tasks_root) {
  std::vector<Bundle> out;
  std::error_code ec;
  if (!fs::exists(tasks_root, ec)) return out;
  for (const auto& ns_entry : fs::directory_iterator(tasks_root, ec)) {
    if (!ns_entry.is_directory()) continue;
    std::string ns = ns_entry.path().filename().string();
    for (const auto& entry : fs::directory_iterator(ns_entry.path(), ec)) {
      std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] == '.') {
        // An interrupted Delete: finish it.
        mount::UnmountAll(entry.path() / "rootfs").IgnoreError();
        fs::remove_all(entry.path(), ec);
        continue;
      }
      if (!entry.is_directory()) continue;
      out.push_back(Bundle{ns, name, entry.path()});
    }
  }
  if (ec) return Unknown("list {}: {}", tasks_root.string(), ec.message());
  return out;
}

bool Bundle::MadeByBerth() const {
  std::error_code ec;
  return fs::exists(path / kMarker, ec);
}

Result<std::string> Bundle::ReadAddress() const { return ReadTrimmed(path / "address"); }

Result<std::string> Bundle::ReadShimBinary() const { return ReadTrimmed(path / "shim-binary-path"); }

Status Bundle::WriteShimBinary(const std::string& binary) const {
  return files::WriteAtomic(path / "shim-binary-path", binary);
}

Status Bundle::Delete() const {
  std::error_code ec;
  fs::path hidden = path.parent_path() / ("." + id);
  if (!fs::exists(path, ec)) {
    // Gone already, or renamed by a Delete whose removal failed: finish that one.
    fs::remove_all(hidden, ec);
    if (ec) return Unknown("remove bundle {}: {}", hidden.string(), ec.message());
    return Status::Ok();
  }
  BERTH_RETURN_IF_ERROR(mount::UnmountAll(rootfs()));
  fs::remove_all(hidden, ec);
  if (::rename(path.c_str(), hidden.c_str()) != 0) {
    return ErrnoStatus(fmt::format("rename bundle {}", path.string()), errno);
  }
  fs::remove_all(hidden, ec);
  if (ec) return Unknown("remove bundle {}: {}", hidden.string(), ec.message());
  // An empty namespace directory is removed too (ignore failure: another task may be in it).
  ::rmdir(path.parent_path().c_str());
  return Status::Ok();
}

}  // namespace berth::runtime
