// Helpers of the diff unit tests: temp trees, layer tars built with python3's tarfile (so the
// archives come from an independent implementation), compression with the gzip/zstd tools.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "common/digest.h"
#include "content/reader.h"
#include "diff/apply.h"

namespace berth::diff::testutil {

namespace fs = std::filesystem;

// A fresh directory under the temp dir, removed (after unmounting nothing: tests mount
// nothing under it) with its owner.
class TempTree {
 public:
  TempTree() {
    std::string tmpl = (fs::temp_directory_path() / "berth-diff-test-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

inline int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

// Builds a tar at `out` with python3's tarfile (PAX format). `body` calls
//   add(name, type='f'|'d'|'l'|'h'|'c'|'b'|'p', data=b'', mode=0o644, uid=0, gid=0,
//       mtime=1000000, link='', major=0, minor=0, pax=None)
// and may append raw bytes after the tar with trailing(b'...').
inline bool MakeTar(const fs::path& out, const std::string& body) {
  fs::path script = out.string() + ".py";
  std::ofstream(script) << R"PY(import tarfile, io, sys
out = sys.argv[1]
tf = tarfile.open(out, 'w', format=tarfile.PAX_FORMAT)
_trailing = []
def add(name, type='f', data=b'', mode=0o644, uid=0, gid=0, mtime=1000000, link='', major=0, minor=0, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = {'f': tarfile.REGTYPE, 'd': tarfile.DIRTYPE, 'l': tarfile.SYMTYPE, 'h': tarfile.LNKTYPE,
               'c': tarfile.CHRTYPE, 'b': tarfile.BLKTYPE, 'p': tarfile.FIFOTYPE}[type]
    ti.mode = mode; ti.uid = uid; ti.gid = gid; ti.mtime = mtime; ti.linkname = link
    ti.devmajor = major; ti.devminor = minor
    if pax: ti.pax_headers = pax
    if type == 'f':
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)
def trailing(b):
    _trailing.append(b)
)PY" << body << R"PY(
tf.close()
with open(out, 'ab') as f:
    for b in _trailing: f.write(b)
)PY";
  int rc = Shell("python3 '" + script.string() + "' '" + out.string() + "'");
  fs::remove(script);
  return rc == 0;
}

// `tar` compressed with "gzip" or "zstd" into a new file next to it ("none": the tar itself).
inline fs::path Compress(const fs::path& tar, const std::string& how) {
  if (how == "none") return tar;
  fs::path out = tar.string() + (how == "gzip" ? ".gz" : ".zst");
  std::string cmd = how == "gzip" ? "gzip -n -c '" + tar.string() + "' > '" + out.string() + "'"
                                  : "zstd -q -f -c '" + tar.string() + "' > '" + out.string() + "'";
  EXPECT_EQ(Shell(cmd), 0) << cmd;
  return out;
}

inline Digest Sha256File(const fs::path& p) { return Sha256Of(ReadFile(p)); }

inline Result<AppliedLayer> ApplyFile(const fs::path& blob, const fs::path& target, const ApplyOptions& opts = {}) {
  auto reader = content::ReaderAt::Open(blob);
  if (!reader.ok()) return reader.status();
  return ApplyLayer(*reader, target, opts);
}

inline struct stat Lstat(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

// Every path below `root` (relative), with a type letter and, for files, the content.
inline std::map<std::string, std::string> Listing(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& e = *it;
    std::string rel = fs::relative(e.path(), root).string();
    auto st = e.symlink_status();
    if (fs::is_symlink(st)) out[rel] = "l:" + fs::read_symlink(e.path()).string();
    else if (fs::is_directory(st)) out[rel] = "d";
    else if (fs::is_regular_file(st)) out[rel] = "f:" + ReadFile(e.path());
    else out[rel] = "o";
  }
  return out;
}

}  // namespace berth::diff::testutil
