// Fuzz target: diff::ApplyLayer (berth_diff), berthd's applier of a registry-supplied layer blob
// (tar, plain, gzip or zstd) onto a snapshot directory — the one entry point Differ::Apply
// (overlay upperdir, bind source or a mounted snapshot) and checkpoint/image_tar use.
//
// Bytes: data[0] picks the options as Differ::Apply sets them: bit 0 = overlay whiteouts (the
// target is an overlay upperdir), bit 1 = a lowerdir for parent directories (ApplyOptions::
// parents); data[1..] is the blob, written to a file of the target's temp dir and read through
// content::ReaderAt as the content store hands it over.
//
// Each input is applied onto a fresh <tmp>/case/root beside a sentinel directory
// <tmp>/case/outside, with <tmp>/outside.txt, the lowerdir <tmp>/lower and the blob <tmp>/layer
// around it. Invariants:
//   - nothing outside the root is created, removed or changed: every path of <tmp> but the
//     root's subtree keeps its type, mode, owner, size, link count, inode, mtime, ctime, link
//     target and content (a hard link to a sentinel raises its link count; a file written
//     through a symlink changes its content or mtime; the outside directory stays empty);
//   - the root itself stays the same directory (inode, mode, owner);
//   - /etc/passwd keeps its link count (the classic hard-link target);
//   - ApplyLayer leaks no file descriptor, succeeding or not;
//   - on success, the diff_id and size are the sha256 and length of the whole uncompressed
//     stream, as an independent libarchive read of the blob gives them.
// Blobs whose uncompressed stream exceeds kMaxUncompressed are skipped (a decompression bomb
// costs berthd what it costs containerd: time and disk; not this target's subject).
// The scratch tree is removed after each input without following symlinks and with a constant
// number of descriptors (a layer may build trees deeper than the fd limit).
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/archive_handle.h"
#include "common/digest.h"
#include "common/logging.h"
#include "content/reader.h"
#include "diff/apply.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxUncompressed = int64_t{1} << 20;
constexpr int kMaxWalkDepth = 32;  // our own tree outside the root is 3 levels deep

// ---- files, without following symlinks ----

bool WriteAll(const std::string& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = true;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ::close(fd) == 0 && ok;
}

std::string ReadAll(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "<unreadable>";
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The names in the directory `dir_fd` (not "." and ".."); false on error.
bool ListNames(int dir_fd, std::vector<std::string>* names) {
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  DIR* d = ::fdopendir(copy);
  if (d == nullptr) {
    ::close(copy);
    return false;
  }
  ::rewinddir(d);
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names->emplace_back(n);
  }
  ::closedir(d);
  return true;
}

// Removes `path` and everything below it: symlinks are removed, never followed; directories
// are entered one at a time (two descriptors at most, whatever the depth) and made
// accessible first.
bool RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (!S_ISDIR(st.st_mode)) return ::unlink(path.c_str()) == 0;
  ::chmod(path.c_str(), 0700);
  int cur = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cur < 0) return false;
  std::vector<std::string> entered;  // the directories below `path` that `cur` is in
  for (;;) {
    std::vector<std::string> names;
    if (!ListNames(cur, &names)) break;
    std::string subdir;
    bool failed = false;
    for (const auto& name : names) {
      struct stat est {};
      if (::fstatat(cur, name.c_str(), &est, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
      if (S_ISDIR(est.st_mode)) {
        if (subdir.empty()) subdir = name;
      } else if (::unlinkat(cur, name.c_str(), 0) != 0) {
        failed = true;
      }
    }
    if (failed) break;
    if (!subdir.empty()) {
      // Best effort (as root it is not needed); a directory, not a symlink: lstat said so.
      [[maybe_unused]] const int chmod_rc = ::fchmodat(cur, subdir.c_str(), 0700, 0);
      int next = ::openat(cur, subdir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) break;
      ::close(cur);
      cur = next;
      entered.push_back(subdir);
      continue;
    }
    if (entered.empty()) {  // `path` is empty
      ::close(cur);
      return ::rmdir(path.c_str()) == 0;
    }
    int parent = ::openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) break;
    ::close(cur);
    cur = parent;
    if (::unlinkat(cur, entered.back().c_str(), AT_REMOVEDIR) != 0) break;
    entered.pop_back();
  }
  ::close(cur);
  return false;
}

// ---- the sandbox ----

std::string Describe(const struct stat& st) {
  return fmt::format("mode={:o} uid={} gid={} size={} nlink={} ino={} mtime={}.{} ctime={}.{}", st.st_mode,
                     st.st_uid, st.st_gid, st.st_size, st.st_nlink, st.st_ino, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

// Everything below `dir` (relative names), except the subtree of `skip`, whose own inode and
// attributes (not its times or link count: the layer fills it) are recorded instead.
void Snapshot(const std::string& dir, const std::string& rel, const std::string& skip, int depth,
              std::map<std::string, std::string>* out) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    (*out)[rel + "/"] = "<cannot open>";
    return;
  }
  std::vector<std::string> names;
  bool listed = ListNames(fd, &names);
  ::close(fd);
  if (!listed) {
    (*out)[rel + "/"] = "<cannot list>";
    return;
  }
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    const std::string key = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      (*out)[key] = "<vanished>";
      continue;
    }
    if (key == skip) {
      (*out)[key] = fmt::format("root mode={:o} uid={} gid={} ino={}", st.st_mode, st.st_uid, st.st_gid, st.st_ino);
      continue;
    }
    std::string what = Describe(st);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      what += " -> " + fs::read_symlink(path, ec).string();
    } else if (S_ISREG(st.st_mode)) {
      what += " content=" + ReadAll(path);
    }
    (*out)[key] = what;
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxWalkDepth) {
        (*out)[key + "/"] = "<too deep>";
        continue;
      }
      Snapshot(path, key, skip, depth + 1, out);
    }
  }
}

int CountFds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

std::optional<nlink_t> PasswdLinks() {
  struct stat st {};
  if (::lstat("/etc/passwd", &st) != 0) return std::nullopt;
  return st.st_nlink;
}

// The temp dir this target owns: made on first use, removed at exit.
class Sandbox {
 public:
  Sandbox() {
    std::string tmpl = (fs::temp_directory_path() / "berth-fuzz-layer-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    FUZZ_CHECK(WriteAll(dir_ + "/outside.txt", "sentinel: no layer may change me\n", 0644));
    // A lowerdir as the overlay snapshotter passes it: directories with their own attributes,
    // a file and a symlink where a layer may want directories.
    const std::string lower_dir = dir_ + "/lower";
    FUZZ_CHECK(::mkdir(lower_dir.c_str(), 0755) == 0);
    FUZZ_CHECK(::mkdir((lower_dir + "/etc").c_str(), 0700) == 0);
    FUZZ_CHECK(::mkdir((lower_dir + "/usr").c_str(), 0755) == 0);
    FUZZ_CHECK(::mkdir((lower_dir + "/usr/share").c_str(), 0750) == 0);
    ::chmod((lower_dir + "/usr/share").c_str(), 03750);  // setgid + sticky survive the copy
    [[maybe_unused]] const int chown_rc = ::lchown((lower_dir + "/usr/share").c_str(), 1000, 1000);  // as root only
    FUZZ_CHECK(WriteAll(lower_dir + "/file", "a file in the lowerdir\n", 0644));
    FUZZ_CHECK(::symlink("../outside.txt", (lower_dir + "/link").c_str()) == 0);
    FUZZ_CHECK(::symlink("/", (lower_dir + "/rootlink").c_str()) == 0);
  }
  ~Sandbox() { RemoveTree(dir_); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& dir() const { return dir_; }
  std::string lower() const { return dir_ + "/lower"; }
  std::string layer() const { return dir_ + "/layer"; }
  std::string scratch() const { return dir_ + "/case"; }
  std::string root() const { return dir_ + "/case/root"; }

  std::map<std::string, std::string> Take() const {
    std::map<std::string, std::string> out;
    Snapshot(dir_, "", "case/root", 0, &out);
    return out;
  }

 private:
  std::string dir_;
};

Sandbox& Box() {
  static Sandbox box;
  return box;
}

// ---- the uncompressed stream, read independently ----

struct Uncompressed {
  bool complete = false;  // read to the end without an error
  bool too_big = false;
  int64_t size = 0;
  berth::Digest digest;
};

// What libarchive's filters (the applier's: gzip, zstd, none) make of `blob`, at most
// kMaxUncompressed + 1 bytes of it.
Uncompressed ReadUncompressed(std::string_view blob) {
  Uncompressed out;
  auto hasher = berth::Hasher::New("sha256");
  FUZZ_CHECK(hasher.ok());
  berth::ReadArchive a(archive_read_new());
  FUZZ_CHECK(a != nullptr);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_raw(a.get());
  archive_read_support_format_empty(a.get());
  if (archive_read_open_memory(a.get(), blob.data(), blob.size()) != ARCHIVE_OK) return out;
  archive_entry* entry = nullptr;
  int rc = archive_read_next_header(a.get(), &entry);
  if (rc == ARCHIVE_EOF) {
    out.complete = true;
    out.digest = hasher->Finish();
    return out;
  }
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return out;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) return out;
    if (n == 0) break;
    hasher->Update(buf.data(), static_cast<size_t>(n));
    out.size += n;
    if (out.size > kMaxUncompressed) {
      out.too_big = true;
      return out;
    }
  }
  out.complete = true;
  out.digest = hasher->Finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  berth::log::Init("error").IgnoreError();  // "ignored xattr" warnings on every other input
  Box();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view blob(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Uncompressed expected = ReadUncompressed(blob);
  if (expected.too_big) return 0;

  Sandbox& box = Box();
  berth::diff::ApplyOptions options;
  options.overlay_whiteouts = (data[0] & 1) != 0;
  if ((data[0] & 2) != 0) options.parents = {box.lower(), box.dir() + "/no-such-lower"};
  options.what = "fuzz layer";

  FUZZ_CHECK(WriteAll(box.layer(), blob, 0644));
  FUZZ_CHECK(::mkdir(box.scratch().c_str(), 0755) == 0);
  FUZZ_CHECK(::mkdir(box.root().c_str(), 0755) == 0);
  FUZZ_CHECK(::mkdir((box.scratch() + "/outside").c_str(), 0755) == 0);

  const auto before = box.Take();
  const auto passwd_links = PasswdLinks();
  const int fds = CountFds();
  {
    auto reader = berth::content::ReaderAt::Open(box.layer());
    FUZZ_CHECK(reader.ok());
    auto applied = berth::diff::ApplyLayer(*reader, box.root(), options);
    if (applied.ok()) {
      FUZZ_CHECK(expected.complete);
      FUZZ_CHECK(applied->size == expected.size);
      FUZZ_CHECK(applied->diff_id == expected.digest);
    } else {
      FUZZ_CHECK(!applied.status().message().empty());
    }
  }
  FUZZ_CHECK(CountFds() == fds);
  FUZZ_CHECK(PasswdLinks() == passwd_links);
  const auto after = box.Take();
  if (after != before) {
    for (const auto& [path, what] : before) {
      auto it = after.find(path);
      if (it == after.end()) {
        std::fprintf(stderr, "removed outside the root: %s (%s)\n", path.c_str(), what.c_str());
      } else if (it->second != what) {
        std::fprintf(stderr, "changed outside the root: %s\n  was %s\n  now %s\n", path.c_str(), what.c_str(),
                     it->second.c_str());
      }
    }
    for (const auto& [path, what] : after) {
      if (!before.contains(path)) std::fprintf(stderr, "created outside the root: %s (%s)\n", path.c_str(), what.c_str());
    }
  }
  FUZZ_CHECK(after == before);
  FUZZ_CHECK(RemoveTree(box.scratch()));
  return 0;
}
