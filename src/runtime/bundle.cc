#include "runtime/bundle.h"

#include <sys/stat.h>
#include <unistd.h>


#include "common/identifiers.h"
#include "common/logging.h"
#include "content/files.h"
#include "mount/mount.h"

namespace berth::runtime {

namespace fs = std::filesystem;

namespace {

// The shim writes these files with a trailing newline.
Result<std::string> ReadTrimmed(const fs::path& path) {
  BERTH_ASSIGN_OR_RETURN(std::string s, content::files::ReadSmall(path));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
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
  auto fail = [&](Status s) -> Status {
    fs::remove_all(b.path, ec);
    return s;
  };
  if (::mkdir(b.rootfs().c_str(), 0711) != 0) {
    return fail(ErrnoStatus(fmt::format("create {}", b.rootfs().string()), errno));
  }
  if (::mkfifo(b.log_fifo().c_str(), 0700) != 0) {
    return fail(ErrnoStatus(fmt::format("mkfifo {}", b.log_fifo().string()), errno));
  }
  if (Status s = content::files::WriteAtomic(b.path / "config.json", spec_json); !s.ok()) return fail(s);
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
        mount::UnmountAll(entry.path() / "rootfs").ok();
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

Result<std::string> Bundle::ReadAddress() const { return ReadTrimmed(path / "address"); }

Result<std::string> Bundle::ReadShimBinary() const { return ReadTrimmed(path / "shim-binary-path"); }

Status Bundle::WriteShimBinary(const std::string& binary) const {
  return content::files::WriteAtomic(path / "shim-binary-path", binary);
}

Status Bundle::Delete() const {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::Ok();
  BERTH_RETURN_IF_ERROR(mount::UnmountAll(rootfs()));
  fs::path hidden = path.parent_path() / ("." + id);
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
