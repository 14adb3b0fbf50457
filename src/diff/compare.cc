#include "diff/compare.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/archive_handle.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "diff/whiteouts.h"

namespace berth::diff {
namespace {

namespace fs = std::filesystem;

// Sorted names in `dir`; empty when it is missing or not a directory.
Result<std::vector<std::string>> Names(const fs::path& dir) {
  auto names = files::ListDir(dir);
  if (!names.ok()) {
    std::error_code ec;
    if (names.status().Is(Errc::kNotFound) || !fs::is_directory(dir, ec)) return std::vector<std::string>{};
    return names.status();
  }
  std::sort(names->begin(), names->end());
  return names;
}

std::optional<std::string> Xattr(const fs::path& p, const char* name) {
  ssize_t n = ::lgetxattr(p.c_str(), name, nullptr, 0);
  if (n < 0) return std::nullopt;
  std::string v(static_cast<size_t>(n), '\0');
  n = ::lgetxattr(p.c_str(), name, v.data(), v.size());
  if (n < 0) return std::nullopt;
  v.resize(static_cast<size_t>(n));
  return v;
}

std::string ReadLink(const fs::path& p) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
  if (n < 0) return {};
  buf.resize(static_cast<size_t>(n));
  return buf;
}

bool SameFile(const fs::path& lp, const struct stat& l, const fs::path& up, const struct stat& u) {
  if (l.st_mode != u.st_mode || l.st_uid != u.st_uid || l.st_gid != u.st_gid || l.st_rdev != u.st_rdev) return false;
  if (!S_ISDIR(l.st_mode) && l.st_size != u.st_size) return false;
  if (l.st_mtim.tv_sec != u.st_mtim.tv_sec || l.st_mtim.tv_nsec != u.st_mtim.tv_nsec) return false;
  if (S_ISLNK(l.st_mode) && ReadLink(lp) != ReadLink(up)) return false;
  return Xattr(lp, "security.capability") == Xattr(up, "security.capability");
}

class DiffWriter {
 public:
  DiffWriter(fs::path lower, fs::path upper, const ByteSink& out)
      : lower_(std::move(lower)), upper_(std::move(upper)), sink_(out) {}

  Status Run() {
    tar_.reset(archive_write_new());
    if (!tar_) return Internal("write diff: out of memory");
    if (archive_write_set_format_pax_restricted(tar_.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(tar_.get(), 512) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(tar_.get(), 1) != ARCHIVE_OK ||
        sink_.Open(tar_.get()) != ARCHIVE_OK) {
      return Fail("open tar writer");
    }
    whiteout_time_ = ::time(nullptr);
    BERTH_RETURN_IF_ERROR(Walk(""));
    if (archive_write_close(tar_.get()) != ARCHIVE_OK) return Fail("close tar writer");
    return Status::Ok();
  }

 private:
  Status Fail(std::string_view what) {
    return sink_.Failure(Internal("write diff: {}: {}", what, ArchiveError(tar_.get())));
  }

  static std::string Child(const std::string& rel, const std::string& name) {
    return rel.empty() ? name : rel + "/" + name;
  }

  // Compares the directory `rel` of both trees.
  Status Walk(const std::string& rel) {
    BERTH_ASSIGN_OR_RETURN(auto lnames, Names(lower_ / rel));
    BERTH_ASSIGN_OR_RETURN(auto unames, Names(upper_ / rel));
    size_t i = 0, j = 0;
    while (i < lnames.size() || j < unames.size()) {
      if (j == unames.size() || (i < lnames.size() && lnames[i] < unames[j])) {
        BERTH_RETURN_IF_ERROR(Whiteout(rel, lnames[i++]));
        continue;
      }
      if (i == lnames.size() || unames[j] < lnames[i]) {
        BERTH_RETURN_IF_ERROR(AddTree(Child(rel, unames[j++])));
        continue;
      }
      const std::string p = Child(rel, unames[j]);
      ++i;
      ++j;
      struct stat l {}, u {};
      if (::lstat((lower_ / p).c_str(), &l) != 0) return ErrnoStatus(fmt::format("stat {}", (lower_ / p).string()), errno);
      if (::lstat((upper_ / p).c_str(), &u) != 0) return ErrnoStatus(fmt::format("stat {}", (upper_ / p).string()), errno);
      if (!SameFile(lower_ / p, l, upper_ / p, u)) BERTH_RETURN_IF_ERROR(Add(p, u));
      if (S_ISDIR(u.st_mode)) {
        if (S_ISDIR(l.st_mode)) {
          BERTH_RETURN_IF_ERROR(Walk(p));
        } else {
          BERTH_RETURN_IF_ERROR(AddChildren(p));
        }
      }
    }
    return Status::Ok();
  }

  Status AddTree(const std::string& p) {
    struct stat u {};
    if (::lstat((upper_ / p).c_str(), &u) != 0) return ErrnoStatus(fmt::format("stat {}", (upper_ / p).string()), errno);
    BERTH_RETURN_IF_ERROR(Add(p, u));
    if (S_ISDIR(u.st_mode)) return AddChildren(p);
    return Status::Ok();
  }
  Status AddChildren(const std::string& p) {
    BERTH_ASSIGN_OR_RETURN(auto names, Names(upper_ / p));
    for (const auto& n : names) BERTH_RETURN_IF_ERROR(AddTree(Child(p, n)));
    return Status::Ok();
  }

  // Headers for the parent directories of `p` not written yet (containerd's includeParents).
  Status Parents(const std::string& p) {
    std::vector<std::string> missing;
    for (size_t pos = p.rfind('/'); pos != std::string::npos && pos > 0; pos = p.rfind('/', pos - 1)) {
      std::string dir = p.substr(0, pos);
      if (added_dirs_.contains(dir)) break;
      missing.push_back(dir);
      if (pos == 0) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      struct stat st {};
      if (::lstat((upper_ / *it).c_str(), &st) != 0) return ErrnoStatus(fmt::format("stat {}", (upper_ / *it).string()), errno);
      BERTH_RETURN_IF_ERROR(Header(*it, st));
    }
    return Status::Ok();
  }

  Status Whiteout(const std::string& rel, const std::string& name) {
    std::string p = Child(rel, std::string(kWhiteoutPrefix) + name);
    BERTH_RETURN_IF_ERROR(Parents(p));
    ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), p.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_mtime(e.get(), whiteout_time_, 0);
    if (archive_write_header(tar_.get(), e.get()) != ARCHIVE_OK) return Fail(fmt::format("whiteout {}", p));
    return Status::Ok();
  }

  Status Add(const std::string& p, const struct stat& st) {
    if (S_ISSOCK(st.st_mode)) return Status::Ok();  // tar has no sockets
    BERTH_RETURN_IF_ERROR(Parents(p));
    return Header(p, st);
  }

  Status Header(const std::string& p, const struct stat& st) {
    const fs::path full = upper_ / p;
    ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), S_ISDIR(st.st_mode) ? (p + "/").c_str() : p.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(e.get(), 0);
    if (auto cap = Xattr(full, "security.capability")) {
      archive_entry_xattr_add_entry(e.get(), "security.capability", cap->data(), cap->size());
    }
    bool data = false;
    if (S_ISLNK(st.st_mode)) {
      archive_entry_set_symlink(e.get(), ReadLink(full).c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    } else if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = st.st_nlink > 1 ? inodes_.find(key) : inodes_.end();
      if (it != inodes_.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
      } else {
        if (st.st_nlink > 1) inodes_.emplace(key, p);
        archive_entry_set_size(e.get(), st.st_size);
        data = true;
      }
    }
    if (S_ISDIR(st.st_mode)) added_dirs_.insert(p);
    if (archive_write_header(tar_.get(), e.get()) != ARCHIVE_OK) return Fail(fmt::format("header {}", p));
    if (data) return Copy(full, st.st_size);
    return Status::Ok();
  }

  Status Copy(const fs::path& full, off_t size) {
    int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(fmt::format("open {}", full.string()), errno);
    UniqueFd file(fd);
    std::vector<char> buf(1 << 20);
    off_t left = size;
    while (left > 0) {
      ssize_t n = ::read(fd, buf.data(), std::min<size_t>(buf.size(), static_cast<size_t>(left)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(fmt::format("read {}", full.string()), errno);
      if (n == 0) return Unknown("{} shrank while writing the diff", full.string());
      if (archive_write_data(tar_.get(), buf.data(), static_cast<size_t>(n)) != n) {
        return Fail(fmt::format("data {}", full.string()));
      }
      left -= n;
    }
    return Status::Ok();
  }

  fs::path lower_, upper_;
  ArchiveSink sink_;
  WriteArchive tar_;
  time_t whiteout_time_ = 0;
  std::set<std::string> added_dirs_;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes_;
};

}  // namespace

Status WriteDiff(const fs::path& lower, const fs::path& upper, const ByteSink& out) {
  return DiffWriter(lower, upper, out).Run();
}

}  // namespace berth::diff
