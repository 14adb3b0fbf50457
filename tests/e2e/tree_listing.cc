#include "tree_listing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <utility>

#include "common/digest.h"

namespace berth::e2e {
namespace {

namespace fs = std::filesystem;

std::string Sha256OfFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "unreadable";
  Hasher hasher = std::move(Hasher::New("sha256")).value();
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    hasher.Update(buf, static_cast<size_t>(in.gcount()));
  }
  return hasher.Finish().hex;
}

// "name=value" for each xattr, sorted; values shown with non-printables escaped.
std::string Xattrs(const fs::path& p) {
  ssize_t len = ::llistxattr(p.c_str(), nullptr, 0);
  if (len <= 0) return "";
  std::string names(static_cast<size_t>(len), '\0');
  len = ::llistxattr(p.c_str(), names.data(), names.size());
  if (len <= 0) return "";
  names.resize(static_cast<size_t>(len));
  std::vector<std::string> out;
  for (size_t pos = 0; pos < names.size();) {
    std::string name = names.c_str() + pos;
    pos += name.size() + 1;
    std::string value(4096, '\0');
    ssize_t vlen = ::lgetxattr(p.c_str(), name.c_str(), value.data(), value.size());
    value.resize(vlen > 0 ? static_cast<size_t>(vlen) : 0);
    std::string shown;
    for (unsigned char c : value) {
      if (c >= 0x20 && c < 0x7f) {
        shown += static_cast<char>(c);
      } else {
        char esc[5];
        std::snprintf(esc, sizeof esc, "\\x%02x", c);
        shown += esc;
      }
    }
    out.push_back(name + "=" + shown);
  }
  std::sort(out.begin(), out.end());
  std::string joined;
  for (const auto& x : out) joined += (joined.empty() ? "" : ",") + x;
  return joined;
}

const char* TypeOf(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

}  // namespace

std::vector<std::string> ListTree(const fs::path& root) {
  std::vector<fs::path> paths = {root};
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none);
       it != fs::recursive_directory_iterator(); ++it) {
    paths.push_back(it->path());
  }
  std::vector<std::pair<std::string, fs::path>> rel;
  for (const auto& p : paths) rel.emplace_back(p == root ? "." : p.lexically_relative(root).string(), p);
  std::sort(rel.begin(), rel.end());

  std::map<std::pair<dev_t, ino_t>, std::string> first_name;  // hard-link groups
  std::vector<std::string> out;
  for (const auto& [name, p] : rel) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      out.push_back(name + " lstat-failed");
      continue;
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    std::string line = name + " " + TypeOf(st.st_mode) + " " + mode + " " + std::to_string(st.st_uid) + ":" +
                       std::to_string(st.st_gid);
    if (S_ISREG(st.st_mode)) {
      line += " size=" + std::to_string(st.st_size) + " sha256=" + Sha256OfFile(p);
    } else if (S_ISLNK(st.st_mode)) {
      line += " -> " + fs::read_symlink(p).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      line += " dev=" + std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev));
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = first_name.emplace(std::make_pair(st.st_dev, st.st_ino), name);
      line += " links=" + std::to_string(st.st_nlink) + (inserted ? "" : " same-as=" + it->second);
    }
    std::string x = Xattrs(p);
    if (!x.empty()) line += " xattrs=" + x;
    line += " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace berth::e2e
